import { describe, expect, test } from 'vitest';
import { sameSize, tileSourceFor } from '../../mixer/logic/sourceSize.ts';

const canvas = { width: 1280, height: 720 };
const configured = { width: 640, height: 360 };
const small = { width: 320, height: 180 };

describe('tileSourceFor()', () => {
  test.each([
    [1, configured, configured],
    [9, configured, configured],
    [10, configured, small],
    [16, configured, small],
    [25, configured, small],
    // Back to the full size only two below the bound: a tenth that comes and goes restarts nothing.
    [9, small, small],
    [8, small, configured],
  ])('a grid of %i with %o now: %o', (count, current, expected) => {
    expect(tileSourceFor({ count, kind: 'grid', canvas, configured, current })).toEqual(expected);
  });

  test('the speaker and presenter layouts keep the configured size: their big tile may show anyone', () => {
    expect(tileSourceFor({ count: 16, kind: 'speaker', canvas, configured, current: small })).toEqual(configured);
    expect(tileSourceFor({ count: 16, kind: 'presenter', canvas, configured, current: configured })).toEqual(configured);
  });

  test('never larger than the configured picture', () => {
    const tiny = { width: 160, height: 90 };
    expect(tileSourceFor({ count: 12, kind: 'grid', canvas, configured: tiny, current: tiny })).toEqual(tiny);
    expect(sameSize(small, { width: 320, height: 180 })).toBe(true);
  });
});
