import { describe, expect, test } from 'vitest';
import { eachReturns } from '../helpers/table.ts';
import { seqAdd, seqDiff, seqNewer, tsAdd, tsDiff } from '../../src/rtp/seq.ts';

// RFC 3550 §5.1: sequence numbers are 16 bits and timestamps 32 bits, both wrapping around.
// Every case starts on both sides of the wrap (65534, 65535; 0xfffffffe, 0xffffffff), as pion's
// receive_log_test.go does.

describe('seqAdd()', () => {
  eachReturns('seqAdd(%i, %i) is %i', seqAdd, [
    // [seq, delta, expected]
    [65534, 0, 65534],
    [65534, 1, 65535],
    [65534, 2, 0],
    [65534, 3, 1],
    [65535, 1, 0],
    [65535, 2, 1],
    [65535, 0x10000, 65535], // a whole turn
    [65535, 0x10001, 0],
    [65534, 0x20002, 0], // two turns and two
    [0, -1, 65535],
    [0, -2, 65534],
    [1, -3, 65534],
    [65535, -65535, 0],
    [65534, -65535, 65535],
    [0, -0x10000, 0],
    [0, -0x10001, 65535],
    [1000, 0x7fff, 33767],
    [1000, -1000, 0],
  ]);

  test.each([65534, 65535, 0, 1, 32767, 32768])('seqAdd() from %i always stays within 0..65535', (start) => {
    for (let delta = -70000; delta <= 70000; delta += 977) {
      const out = seqAdd(start, delta);
      expect(Number.isInteger(out)).toBe(true);
      expect(out).toBeGreaterThanOrEqual(0);
      expect(out).toBeLessThanOrEqual(0xffff);
    }
  });

  test.each([65534, 65535])('seqAdd() from %i undoes itself with the opposite delta', (start) => {
    for (const delta of [1, 2, 3, 100, 0x7fff, 0x8000, 0xffff]) {
      expect(seqAdd(seqAdd(start, delta), -delta)).toBe(start);
    }
  });
});

describe('seqNewer()', () => {
  eachReturns('seqNewer(%i, %i) is %s', seqNewer, [
    // [a, b, a is newer than b]
    [65535, 65534, true],
    [65534, 65535, false],
    [0, 65535, true], // across the wrap
    [65535, 0, false],
    [0, 65534, true],
    [1, 65534, true],
    [65534, 1, false],
    [1, 65535, true],
    [65535, 1, false],
    [65534, 65534, false], // a packet is not newer than itself
    [0, 0, false],
    // The half-space boundary (RFC 3550 A.1): less than 0x8000 ahead is newer...
    [0x7fff, 0, true],
    [0, 0x7fff, false],
    [32765, 65534, true], // 65534 + 0x7fff
    [0, 32769, true], // 0 is 0x7fff ahead of 32769
    // ...exactly 0x8000 apart is ambiguous, and neither side is newer...
    [0x8000, 0, false],
    [0, 0x8000, false],
    [32766, 65534, false], // 65534 + 0x8000
    [65534, 32766, false],
    [32767, 65535, false], // 65535 + 0x8000
    [65535, 32767, false],
    // ...and more than 0x8000 ahead is taken as behind.
    [0x8001, 0, false],
    [0, 0x8001, true],
    [32767, 65534, false], // 65534 + 0x8001
    [65534, 32767, true],
  ]);

  test.each([65534, 65535])('seqNewer() from %i: exactly one of two distinct numbers is newer unless they are 0x8000 apart', (start) => {
    const deltas = [1, 2, 0x7ffe, 0x7fff, 0x8000, 0x8001, 0xfffe, 0xffff];
    for (let delta = 3; delta < 0x10000; delta += 211) deltas.push(delta);
    for (const delta of deltas) {
      const other = seqAdd(start, delta);
      const forward = seqNewer(other, start);
      const backward = seqNewer(start, other);
      if (delta === 0x8000) {
        expect([forward, backward]).toEqual([false, false]);
      } else {
        expect(forward).toBe(delta < 0x8000);
        expect(backward).toBe(delta > 0x8000);
      }
    }
  });
});

describe('seqDiff()', () => {
  eachReturns('seqDiff(%i, %i) is %i', seqDiff, [
    [5, 3, 2],
    [3, 5, -2],
    [0, 65535, 1],
    [65535, 0, -1],
    [100, 65500, 136],
    [32767, 0, 32767],
    [32768, 0, -32768],
  ]);

  test('undoes seqAdd() for every step within half the space, across the wrap', () => {
    for (const start of [0, 65000, 65535]) {
      for (const step of [-32768, -1000, -1, 0, 1, 1000, 32767]) expect(seqDiff(seqAdd(start, step), start)).toBe(step);
    }
  });
});

describe('tsAdd()', () => {
  eachReturns('tsAdd(%i, %i) is %i', tsAdd, [
    // [ts, delta, expected]
    [0xfffffffe, 0, 0xfffffffe],
    [0xfffffffe, 1, 0xffffffff],
    [0xfffffffe, 2, 0],
    [0xfffffffe, 3000, 2998], // one 30 fps frame at 90 kHz, across the wrap
    [0xffffffff, 1, 0],
    [0xffffffff, 960, 959], // one 20 ms Opus frame at 48 kHz (RFC 7587)
    [0xffffffff, 0x100000000, 0xffffffff], // a whole turn
    [0, -1, 0xffffffff],
    [0, -2, 0xfffffffe],
    [2998, -3000, 0xfffffffe],
    [0xfffffffe, -0xfffffffe, 0],
    [0, -0x100000000, 0],
    [0x7fffffff, 1, 0x80000000], // no sign trouble at bit 31
    [0x80000000, 0x80000000, 0],
  ]);

  eachReturns('tsAdd(%i, %d) rounds the delta to a whole tick: %i', tsAdd, [
    // A delta computed from wall-clock time (ms * clockRate / 1000) is rounded to a whole tick.
    [0xfffffffe, 1.4, 0xffffffff],
    [0xfffffffe, 1.6, 0],
    [0xffffffff, 0.5, 0],
    [1, -1.4, 0],
    [0, -0.6, 0xffffffff],
  ]);

  test.each([0xfffffffe, 0xffffffff, 0])('tsAdd() from %i always gives an unsigned 32-bit integer', (start) => {
    for (const delta of [-0x1_0000_0001, -0x80000000, -1, 1, 3000, 0x7fffffff, 0x80000000, 0x1_0000_0001]) {
      const out = tsAdd(start, delta);
      expect(Number.isInteger(out)).toBe(true);
      expect(out).toBeGreaterThanOrEqual(0);
      expect(out).toBeLessThanOrEqual(0xffffffff);
    }
  });
});

describe('tsDiff()', () => {
  eachReturns('tsDiff(%i, %i) is %i', tsDiff, [
    // [a, b, a - b]
    [0xffffffff, 0xfffffffe, 1],
    [0xfffffffe, 0xffffffff, -1],
    [0, 0xfffffffe, 2], // across the wrap
    [0xfffffffe, 0, -2],
    [1, 0xffffffff, 2],
    [0xffffffff, 1, -2],
    [2998, 0xfffffffe, 3000],
    [0xfffffffe, 2998, -3000],
    [3000, 0, 3000],
    [0, 3000, -3000],
    [0xfffffffe, 0xfffffffe, 0],
    // The half-space boundary: +0x7fffffff is the largest forward distance, and 0x80000000
    // apart reads as the most negative one in both directions.
    [0x7fffffff, 0, 0x7fffffff],
    [0, 0x7fffffff, -0x7fffffff],
    [0x80000000, 0, -0x80000000],
    [0, 0x80000000, -0x80000000],
    [0x7ffffffd, 0xfffffffe, 0x7fffffff], // 0xfffffffe + 0x7fffffff
    [0x7ffffffe, 0xfffffffe, -0x80000000], // 0xfffffffe + 0x80000000
    [0x7fffffff, 0xfffffffe, -0x7fffffff], // 0xfffffffe + 0x80000001
  ]);

  test.each([0xfffffffe, 0xffffffff])('tsDiff(tsAdd(%i, d), start) gives back d for every d in the half space', (start) => {
    for (const d of [-0x7fffffff, -0x10000000, -3000, -960, -2, -1, 0, 1, 2, 960, 3000, 0x10000000, 0x7fffffff]) {
      expect(tsDiff(tsAdd(start, d), start)).toBe(d);
      expect(tsDiff(start, tsAdd(start, d))).toBe(0 - d); // not -d: -0 is not 0 to toBe()
    }
  });
});
