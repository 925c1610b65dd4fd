import { describe, expect, it } from 'vitest';
import { DEFAULT_LADDER } from '../../mixer/logic/ladder.ts';
import { checkLowerRungs, parseLowerRungs, rungsThatFit } from '../../src/rooms/roomRungs.ts';

const HD = { width: 1280, height: 720, kbps: 1500 };
const DEFAULT_LOWER = DEFAULT_LADDER.slice(1);

describe('a room’s rungs below its composite', () => {
  it('takes rungs each smaller and cheaper than the one above it, the composite first', () => {
    expect(checkLowerRungs(HD, parseLowerRungs('640x360@500,320x180@150'))).toEqual(DEFAULT_LOWER);
    expect(checkLowerRungs(HD, parseLowerRungs('none'))).toEqual([]);
    // The same size at a lower bitrate is a rung (checkLadder: no larger, cheaper).
    expect(checkLowerRungs(HD, parseLowerRungs('1280x720@800'))).toEqual([{ width: 1280, height: 720, kbps: 800 }]);
  });

  it.each([
    ['a rung larger than the composite', '1920x1080@1000', /^must fit below the composite 1280x720@1500 \(rung 1\): rung 2 \(1920x1080@1000\): larger than the 1280x720 canvas/],
    ['a rung as dear as the composite', '640x360@1500', /^must fit below the composite 1280x720@1500 \(rung 1\): rung 2 \(640x360@1500\): .*lower bitrate/],
    ['rungs out of order', '320x180@150,640x360@500', /^must fit below .*: rung 3 \(640x360@500\): each rung is smaller/],
    ['an odd size', '641x360@500', /^must fit below .*: rung 2 .*even/],
    ['a bitrate under 30 kbit/s', '320x180@20', /^must fit below .*: rung 2 .*30 to 20000/],
    ['four rungs below', '640x360@500,480x270@300,320x180@150,160x90@60', /^must have at most 3 rungs below the composite, not 4$/],
  ])('refuses %s, saying why', (_what, text, why) => {
    expect(() => checkLowerRungs(HD, parseLowerRungs(text))).toThrow(why);
  });

  it('keeps, for a room of another size or bitrate, the rungs that still fit below it', () => {
    expect(rungsThatFit(HD, DEFAULT_LOWER)).toEqual(DEFAULT_LOWER);
    expect(rungsThatFit({ width: 320, height: 180, kbps: 1500 }, DEFAULT_LOWER)).toEqual([{ width: 320, height: 180, kbps: 150 }]);
    expect(rungsThatFit({ width: 1280, height: 720, kbps: 400 }, DEFAULT_LOWER)).toEqual([{ width: 320, height: 180, kbps: 150 }]);
    expect(rungsThatFit({ width: 1280, height: 720, kbps: 120 }, DEFAULT_LOWER)).toEqual([]);
    expect(rungsThatFit(HD, [])).toEqual([]);
  });
});
