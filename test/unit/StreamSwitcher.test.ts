import { beforeEach, describe, expect, it, test, vi } from 'vitest';
import { readSeq, readSsrc, readTimestamp } from '../../src/rtp/rtpHeader.ts';
import { StreamSwitcher } from '../../src/rtp/StreamSwitcher.ts';
import { isVp8KeyframeStart } from '../../src/rtp/vp8.ts';
import { readVp8Capture } from '../helpers/rtpCapture.ts';

const A = 0x0a0a0a0a;
const B = 0x0b0b0b0b;
const C = 0x0c0c0c0c;

/** Payload byte the test's `canSwitchAt` takes for a keyframe start. */
const KEY = 0x4b;
const DELTA = 0x44;

interface PacketFields {
  ssrc: number;
  seq: number;
  ts: number;
  key?: boolean;
}

/** A 13-byte RTP packet: V=2 PT=96, the given seq/ts/SSRC, and one payload byte (KEY or DELTA). */
function packet({ ssrc, seq, ts, key = false }: PacketFields): Buffer {
  const p = Buffer.alloc(13);
  p[0] = 0x80;
  p[1] = 0x60;
  p.writeUInt16BE(seq, 2);
  p.writeUInt32BE(ts, 4);
  p.writeUInt32BE(ssrc, 8);
  p[12] = key ? KEY : DELTA;
  return p;
}

const isKey = (p: Buffer): boolean => p[12] === KEY;

/** What came out: seq and timestamp of each packet sent, `undefined` for each packet dropped. */
type Out = { seq: number; ts: number } | undefined;
const view = (out: Buffer | undefined): Out => (out ? { seq: readSeq(out), ts: readTimestamp(out) } : undefined);

describe('StreamSwitcher', () => {
  let switcher: StreamSwitcher;
  const send = (fields: PacketFields, nowMs: number, switched?: (ssrc: number) => void): Out =>
    view(switcher.process(packet(fields), nowMs, switched));

  beforeEach(() => {
    switcher = new StreamSwitcher({ clockRate: 90000, canSwitchAt: isKey });
  });

  it('StreamSwitcher takes the first source at its first switchable packet, unchanged', () => {
    expect(send({ ssrc: A, seq: 10, ts: 1000 }, 0)).toBeUndefined();
    expect(send({ ssrc: A, seq: 11, ts: 1000 }, 0)).toBeUndefined();
    expect(switcher.currentSsrc).toBeUndefined();
    expect(send({ ssrc: A, seq: 12, ts: 4000, key: true }, 33)).toEqual({ seq: 12, ts: 4000 });
    expect(send({ ssrc: A, seq: 13, ts: 4000 }, 34)).toEqual({ seq: 13, ts: 4000 });
    expect(switcher.currentSsrc).toBe(A);
    expect(switcher.switches).toBe(1);
    expect(switcher.dropped).toBe(2);
  });

  it('StreamSwitcher with onlyExpected ignores a source that was not announced, even at a keyframe', () => {
    switcher = new StreamSwitcher({ clockRate: 90000, canSwitchAt: isKey, onlyExpected: true });
    expect(send({ ssrc: A, seq: 1, ts: 0, key: true }, 0)).toBeUndefined();
    switcher.expect(A);
    expect(send({ ssrc: A, seq: 2, ts: 3000, key: true }, 33)).toEqual({ seq: 2, ts: 3000 });
    // A standby warming up: its keyframe must not take the stream.
    expect(send({ ssrc: B, seq: 50, ts: 0, key: true }, 40)).toBeUndefined();
    expect(switcher.currentSsrc).toBe(A);
    switcher.expect(B);
    expect(send({ ssrc: B, seq: 51, ts: 3000, key: true }, 66)).toEqual({ seq: 3, ts: 5970 });
  });

  it('StreamSwitcher skips a warmed-up standby\'s first frame even when its packets come after the announcement', () => {
    switcher = new StreamSwitcher({ clockRate: 90000, canSwitchAt: isKey, onlyExpected: true });
    switcher.expect(A);
    expect(send({ ssrc: A, seq: 1, ts: 0, key: true }, 0)).toEqual({ seq: 1, ts: 0 });
    // Announced before its warm-up frame (a keyframe, two packets) got here: that frame is not shown.
    switcher.expect(B, { skipFirstFrame: true });
    expect(send({ ssrc: B, seq: 50, ts: 900, key: true }, 10)).toBeUndefined();
    expect(send({ ssrc: B, seq: 51, ts: 900 }, 10)).toBeUndefined();
    expect(switcher.currentSsrc).toBe(A);
    expect(send({ ssrc: B, seq: 52, ts: 3900, key: true }, 43)).toEqual({ seq: 2, ts: 3870 });
    expect(switcher.currentSsrc).toBe(B);
  });

  it('StreamSwitcher skips nothing more when the warm-up frame came before the announcement', () => {
    switcher = new StreamSwitcher({ clockRate: 90000, canSwitchAt: isKey, onlyExpected: true });
    switcher.expect(A);
    expect(send({ ssrc: A, seq: 1, ts: 0, key: true }, 0)).toEqual({ seq: 1, ts: 0 });
    expect(send({ ssrc: B, seq: 50, ts: 900, key: true }, 5)).toBeUndefined(); // warm-up, ignored
    switcher.expect(B, { skipFirstFrame: true });
    expect(send({ ssrc: B, seq: 51, ts: 3900, key: true }, 40)).toEqual({ seq: 2, ts: 3600 });
    expect(switcher.currentSsrc).toBe(B);
  });

  it('StreamSwitcher.process() rewrites the packet in place and returns the same buffer', () => {
    send({ ssrc: A, seq: 100, ts: 0, key: true }, 0);
    const p = packet({ ssrc: B, seq: 7, ts: 7, key: true });
    const original = Buffer.from(p);
    const out = switcher.process(p, 10);
    expect(out).toBe(p);
    // only seq and timestamp change: V/P/X/CC, M/PT, SSRC and payload are the source's
    expect(p.subarray(0, 2)).toEqual(original.subarray(0, 2));
    expect(p.subarray(8)).toEqual(original.subarray(8));
    expect(readSsrc(p)).toBe(B);
  });

  it('StreamSwitcher continues the sequence numbers by exactly one across a switch', () => {
    send({ ssrc: A, seq: 100, ts: 0, key: true }, 0);
    send({ ssrc: A, seq: 101, ts: 0 }, 1);
    send({ ssrc: A, seq: 102, ts: 3000 }, 33);
    switcher.expect(B);
    expect(send({ ssrc: B, seq: 5000, ts: 123456, key: true }, 66)?.seq).toBe(103);
    expect(send({ ssrc: B, seq: 5001, ts: 123456 }, 67)?.seq).toBe(104);
    expect(send({ ssrc: B, seq: 5002, ts: 126456 }, 100)?.seq).toBe(105);
  });

  test.each([
    // [last seq of A, first seq of B, expected first seq out for B]
    [65533, 9, 65534],
    [65534, 9, 65535],
    [65535, 9, 0], // the switch itself wraps
    [0, 9, 1],
    [100, 65535, 101], // B starts at the top of its range
    [65535, 65535, 0],
    [65534, 0, 65535],
  ])('StreamSwitcher continues by one across the wrap: A ends at %i, B starts at %i → %i', (lastA, firstB, expected) => {
    send({ ssrc: A, seq: lastA, ts: 0, key: true }, 0);
    switcher.expect(B);
    expect(send({ ssrc: B, seq: firstB, ts: 0, key: true }, 33)?.seq).toBe(expected);
  });

  test.each([65534, 65535])('StreamSwitcher keeps counting by one when the new source wraps after a switch from A at %i', (lastA) => {
    send({ ssrc: A, seq: lastA, ts: 0, key: true }, 0);
    switcher.expect(B);
    const seqs = [65533, 65534, 65535, 0, 1, 2].map((seq, i) => send({ ssrc: B, seq, ts: 0, key: i === 0 }, 33 + i)?.seq);
    const first = (lastA + 1) % 0x10000;
    expect(seqs).toEqual([0, 1, 2, 3, 4, 5].map((i) => (first + i) % 0x10000));
  });

  it('StreamSwitcher advances the timestamp by the wall-clock time between the sources, at 90 kHz', () => {
    send({ ssrc: A, seq: 1, ts: 1000, key: true }, 1000);
    send({ ssrc: A, seq: 2, ts: 4000 }, 1033);
    switcher.expect(B);
    // 40 ms after A's last packet: 40 * 90 = 3600 ticks after A's last timestamp
    expect(send({ ssrc: B, seq: 900, ts: 777, key: true }, 1073)?.ts).toBe(4000 + 3600);
  });

  it('StreamSwitcher advances the timestamp by the wall-clock time at 48 kHz for audio', () => {
    switcher = new StreamSwitcher({ clockRate: 48000, canSwitchAt: () => true });
    send({ ssrc: A, seq: 1, ts: 960, key: true }, 500);
    switcher.expect(B);
    // 20 ms later: one Opus frame, 960 ticks (RFC 7587)
    expect(send({ ssrc: B, seq: 1, ts: 5, key: true }, 520)?.ts).toBe(1920);
  });

  test.each([
    // [last ts of A, ms between, expected first ts of B]
    [0xfffffff0, 33, 0xfffffff0 + 2970 - 0x100000000], // wraps: 2954
    [0xffffffff, 1, 89],
    [0xfffffffe, 100, 8998],
  ])('StreamSwitcher carries the timestamp across the 32-bit wrap: A ends at %i, B %i ms later → %i', (lastTs, ms, expected) => {
    send({ ssrc: A, seq: 1, ts: lastTs, key: true }, 1000);
    switcher.expect(B);
    expect(send({ ssrc: B, seq: 1, ts: 0x12345678, key: true }, 1000 + ms)?.ts).toBe(expected);
  });

  it('StreamSwitcher advances the timestamp by at least one tick when the new source comes in the same millisecond', () => {
    send({ ssrc: A, seq: 1, ts: 5000, key: true }, 200);
    switcher.expect(B);
    expect(send({ ssrc: B, seq: 1, ts: 9, key: true }, 200)?.ts).toBe(5001);
  });

  it('StreamSwitcher keeps the relative spacing of the new source after the switch', () => {
    send({ ssrc: A, seq: 40, ts: 0, key: true }, 0);
    switcher.expect(B);
    const out = [
      send({ ssrc: B, seq: 5000, ts: 123000, key: true }, 100),
      send({ ssrc: B, seq: 5001, ts: 123000 }, 101),
      send({ ssrc: B, seq: 5002, ts: 126000 }, 133),
      send({ ssrc: B, seq: 5004, ts: 132000 }, 200), // seq 5003 lost, one frame skipped
      send({ ssrc: B, seq: 5005, ts: 135000 }, 50), // even a clock that goes back changes nothing now
    ];
    const first = out[0]!;
    expect(out.map((o) => ({ seq: o!.seq - first.seq, ts: o!.ts - first.ts }))).toEqual([
      { seq: 0, ts: 0 },
      { seq: 1, ts: 0 },
      { seq: 2, ts: 3000 },
      { seq: 4, ts: 9000 },
      { seq: 5, ts: 12000 },
    ]);
    expect(first).toEqual({ seq: 41, ts: 100 * 90 });
  });

  it('StreamSwitcher drops the old source after a switch and counts it', () => {
    send({ ssrc: A, seq: 1, ts: 0, key: true }, 0);
    switcher.expect(B);
    send({ ssrc: B, seq: 50, ts: 0, key: true }, 10);
    const late = packet({ ssrc: A, seq: 2, ts: 3000 });
    const original = Buffer.from(late);
    expect(switcher.process(late, 11)).toBeUndefined();
    expect(send({ ssrc: A, seq: 3, ts: 3000 }, 12)).toBeUndefined();
    expect(late).toEqual(original); // a dropped packet is not rewritten
    expect(switcher.dropped).toBe(2);
    expect(switcher.currentSsrc).toBe(B);
    expect(send({ ssrc: B, seq: 51, ts: 0 }, 13)?.seq).toBe(3);
  });

  // Regression: a late keyframe from the retired source once took the stream back.
  it('StreamSwitcher does not switch back to the old source when it sends a keyframe after the switch', () => {
    send({ ssrc: A, seq: 1, ts: 0, key: true }, 0);
    switcher.expect(B);
    send({ ssrc: B, seq: 50, ts: 0, key: true }, 10);
    expect(send({ ssrc: A, seq: 2, ts: 3000, key: true }, 11)).toBeUndefined();
    expect(switcher.currentSsrc).toBe(B);
    expect(send({ ssrc: B, seq: 51, ts: 3000 }, 43)).toEqual({ seq: 3, ts: 3000 + 10 * 90 });
  });

  it('StreamSwitcher ignores a source that is not the expected one while the current one plays', () => {
    send({ ssrc: A, seq: 1, ts: 0, key: true }, 0);
    switcher.expect(B);
    expect(send({ ssrc: C, seq: 77, ts: 0, key: true }, 5)).toBeUndefined();
    expect(switcher.currentSsrc).toBe(A);
    expect(switcher.dropped).toBe(1);
    // A goes on untouched, and B still takes over at its keyframe
    expect(send({ ssrc: A, seq: 2, ts: 3000 }, 33)).toEqual({ seq: 2, ts: 3000 });
    expect(send({ ssrc: B, seq: 900, ts: 0, key: true }, 66)).toEqual({ seq: 3, ts: 3000 + 33 * 90 });
    expect(switcher.currentSsrc).toBe(B);
  });

  it('StreamSwitcher lets any new source with a keyframe take over when none is expected', () => {
    send({ ssrc: A, seq: 1, ts: 0, key: true }, 0);
    expect(send({ ssrc: C, seq: 77, ts: 0 }, 5)).toBeUndefined();
    expect(send({ ssrc: C, seq: 78, ts: 0, key: true }, 6)).toEqual({ seq: 2, ts: 6 * 90 });
    expect(switcher.currentSsrc).toBe(C);
  });

  it('StreamSwitcher takes only the expected source as the first one too', () => {
    switcher.expect(B);
    expect(send({ ssrc: A, seq: 1, ts: 0, key: true }, 0)).toBeUndefined();
    expect(send({ ssrc: B, seq: 9, ts: 99, key: true }, 1)).toEqual({ seq: 9, ts: 99 });
  });

  it('StreamSwitcher waits for a switchable packet of the expected source and plays the old one until then', () => {
    send({ ssrc: A, seq: 1, ts: 0, key: true }, 0);
    switcher.expect(B);
    const out = [
      send({ ssrc: B, seq: 500, ts: 0 }, 10), // an interframe: cannot start here
      send({ ssrc: A, seq: 2, ts: 3000 }, 33),
      send({ ssrc: B, seq: 501, ts: 3000 }, 43),
      send({ ssrc: A, seq: 3, ts: 6000 }, 66),
      send({ ssrc: B, seq: 502, ts: 6000, key: true }, 76), // the switch
      send({ ssrc: A, seq: 4, ts: 9000 }, 99),
      send({ ssrc: B, seq: 503, ts: 9000 }, 109),
    ];
    expect(out).toEqual([
      undefined,
      { seq: 2, ts: 3000 },
      undefined,
      { seq: 3, ts: 6000 },
      { seq: 4, ts: 6000 + 10 * 90 },
      undefined,
      { seq: 5, ts: 6000 + 10 * 90 + 3000 },
    ]);
    expect(switcher.dropped).toBe(3);
    expect(switcher.switches).toBe(2);
  });

  it('StreamSwitcher calls `switched` once with the new SSRC', () => {
    const switched = vi.fn<(ssrc: number) => void>();
    send({ ssrc: A, seq: 1, ts: 0 }, 0, switched); // not switchable: no call
    expect(switched).not.toHaveBeenCalled();
    send({ ssrc: A, seq: 2, ts: 0, key: true }, 1, switched);
    send({ ssrc: A, seq: 3, ts: 0, key: true }, 2, switched); // a keyframe of the current source is no switch
    expect(switched.mock.calls).toEqual([[A]]);
    switcher.expect(B);
    send({ ssrc: B, seq: 1, ts: 0 }, 3, switched);
    send({ ssrc: B, seq: 2, ts: 0, key: true }, 4, switched);
    send({ ssrc: B, seq: 3, ts: 0 }, 5, switched);
    send({ ssrc: B, seq: 4, ts: 0, key: true }, 6, switched);
    expect(switched.mock.calls).toEqual([[A], [B]]);
    expect(switcher.switches).toBe(2);
  });

  it('StreamSwitcher switches to captured FFmpeg VP8 at its keyframe, with isVp8KeyframeStart', () => {
    const captured = readVp8Capture();
    const ssrc = readSsrc(captured[0]!);
    switcher = new StreamSwitcher({ clockRate: 90000, canSwitchAt: isVp8KeyframeStart });
    // The old source: a VP8 keyframe start with another SSRC, seq 65535, ts 0xffffff00.
    const old = Buffer.from(captured[0]!);
    writeHeader(old, 65535, 0xffffff00, A);
    expect(switcher.process(old, 1000)).toBe(old);
    switcher.expect(ssrc);
    // The captured interframes come first and are dropped; the keyframe then starts the stream.
    const order = [captured[7]!, captured[8]!, ...captured.slice(0, 7)];
    const out = order.map((p, i) => view(switcher.process(p, 1020 + i)));
    expect(out.slice(0, 2)).toEqual([undefined, undefined]);
    expect(out.slice(2).map((o) => o?.seq)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(out.slice(2).map((o) => o?.ts)).toEqual(Array(7).fill(0xffffff00 + 22 * 90 - 0x100000000));
    expect(switcher.currentSsrc).toBe(ssrc);
  });
});

function writeHeader(p: Buffer, seq: number, ts: number, ssrc: number): void {
  p.writeUInt16BE(seq, 2);
  p.writeUInt32BE(ts, 4);
  p.writeUInt32BE(ssrc, 8);
}

describe('StreamSwitcher with retime', () => {
  const key = (packet: Buffer): boolean => (packet[12] ?? 0) === 1;
  const packet = (ssrc: number, seq: number, ts: number, keyframe = false): Buffer => {
    const b = Buffer.alloc(13);
    b[0] = 0x80;
    b.writeUInt16BE(seq, 2);
    b.writeUInt32BE(ts, 4);
    b.writeUInt32BE(ssrc, 8);
    b[12] = keyframe ? 1 : 0;
    return b;
  };

  it('gives each new frame the wall-clock time since the previous one, whatever the source counted', () => {
    const switcher = new StreamSwitcher({ clockRate: 90000, canSwitchAt: key, retime: true });
    const out = (p: Buffer, at: number) => readTimestamp(switcher.process(p, at)!);
    expect(out(packet(1, 10, 1000, true), 0)).toBe(1000);
    // two packets of the same frame keep one timestamp
    expect(out(packet(1, 11, 1000), 1)).toBe(1000);
    // the source skipped frames: its next frame is only 3000 ticks on, but 100 ms went by
    expect(out(packet(1, 12, 4000), 100)).toBe(1000 + 9000);
    expect(out(packet(1, 13, 7000), 133)).toBe(1000 + 9000 + 2970);
  });

  it('never gives two frames the same timestamp, even when they arrive together', () => {
    const switcher = new StreamSwitcher({ clockRate: 90000, canSwitchAt: key, retime: true });
    const first = readTimestamp(switcher.process(packet(1, 1, 0, true), 50)!);
    const second = readTimestamp(switcher.process(packet(1, 2, 3000), 50)!);
    expect(second).toBe(first + 1);
  });
});
