import { describe, expect, it } from 'vitest';
import { blackFrame, greyFrame, placeholderFrame, tileFrame } from '../../mixer/logic/tileFrames.ts';

const SIZE = { width: 4, height: 2 };
const frames = { black: blackFrame(SIZE), placeholder: placeholderFrame(SIZE) };
const live = Buffer.from('live picture');

describe('tile frames', () => {
  it('greyFrame() fills luma with the level and chroma with 128, in I420 size', () => {
    const frame = greyFrame(SIZE, 40);
    expect(frame).toHaveLength(12);
    expect([...frame.subarray(0, 8)]).toEqual(Array(8).fill(40));
    expect([...frame.subarray(8)]).toEqual(Array(4).fill(128));
  });

  it('black is video-range black (16) and the placeholder is darker grey, not black', () => {
    expect(frames.black[0]).toBe(16);
    expect(frames.placeholder[0]).toBeGreaterThan(16);
  });

  it.each([
    ['no participant', undefined, 10_000, 'black'],
    ['no frame decoded yet', { lastFrameAt: 0 }, 10_000, 'black'],
    ['a fresh frame', { latestFrame: live, lastFrameAt: 9_990 }, 10_000, 'live'],
    ['a frame held through a 2.9 s gap', { latestFrame: live, lastFrameAt: 7_100 }, 10_000, 'live'],
    ['exactly 3 s of silence', { latestFrame: live, lastFrameAt: 7_000 }, 10_000, 'live'],
    ['more than 3 s of silence', { latestFrame: live, lastFrameAt: 6_999 }, 10_000, 'placeholder'],
  ])('tileFrame() for %s shows %s', (_what, source, now, expected) => {
    const frame = tileFrame(source, now, 3000, frames);
    const names = new Map<Buffer, string>([[frames.black, 'black'], [frames.placeholder, 'placeholder'], [live, 'live']]);
    expect(names.get(frame)).toBe(expected);
  });
});
