import { describe, expect, it } from 'vitest';
import { DEFAULT_LADDER, parseLadder, rungsToEncode } from '../../mixer/logic/ladder.ts';

describe('the ladder of composite renditions', () => {
  it('parses rungs best first, and the default is 720p, 360p, 180p', () => {
    expect(parseLadder('1280x720@1500, 640x360@500,320x180@150')).toEqual(DEFAULT_LADDER);
    expect(parseLadder('640x360@500', { width: 1280, height: 720 })).toEqual([{ width: 640, height: 360, kbps: 500 }]);
  });

  it.each([
    ['640x360', /WIDTHxHEIGHT@KBPS/],
    ['', /WIDTHxHEIGHT@KBPS/],
    ['641x360@500', /even/],
    ['16x16@100', /at least 32/],
    ['640x360@10', /30 to 20000/],
    ['640x360@500,1280x720@1500', /smaller and has a lower bitrate/],
    ['640x360@500,320x180@500', /lower bitrate/],
    ['1280x720@1,2,3', /WIDTHxHEIGHT@KBPS/],
    ['64x64@100,62x62@90,60x60@80,58x58@70,56x56@60', /1 to 4 rungs/],
  ])('refuses %j, saying why', (text, why) => {
    expect(() => parseLadder(text)).toThrow(why);
  });

  it('refuses a rung larger than the canvas', () => {
    expect(() => parseLadder('1920x1080@3000', { width: 1280, height: 720 })).toThrow(/larger than the 1280x720 canvas/);
  });

  it('encodes the top rung always, and the others only while someone receives them', () => {
    expect(rungsToEncode([], DEFAULT_LADDER)).toEqual([0]);
    expect(rungsToEncode(['audio', 2, 2, 0], DEFAULT_LADDER)).toEqual([0, 2]);
    expect(rungsToEncode([1, 7, -1], DEFAULT_LADDER)).toEqual([0, 1]);
  });
});
