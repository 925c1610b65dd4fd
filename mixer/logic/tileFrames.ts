import type { Size } from './layout.ts';

/** A flat I420 frame of one luma level, no colour (U=V=128). */
export function greyFrame(size: Size, luma: number): Buffer {
  const pixels = size.width * size.height;
  const frame = Buffer.alloc((pixels * 3) / 2, 128);
  frame.fill(luma, 0, pixels);
  return frame;
}

/** Y=16: black in the video range FFmpeg's encoders expect. */
export const blackFrame = (size: Size): Buffer => greyFrame(size, 16);

/** Y=40: the dark tile a stalled participant's name label is drawn on. */
export const placeholderFrame = (size: Size): Buffer => greyFrame(size, 40);

export interface TileSource {
  latestFrame?: Buffer;
  /** When the latest frame was decoded (ms, same clock as `now`). */
  lastFrameAt: number;
}

/**
 * What a tile shows at `now`: the participant's latest picture, held through short gaps; the
 * placeholder once it has been silent for `placeholderAfterMs`; black before its first frame.
 */
export function tileFrame(
  source: TileSource | undefined,
  now: number,
  placeholderAfterMs: number,
  frames: { black: Buffer; placeholder: Buffer },
): Buffer {
  if (!source?.latestFrame) return frames.black;
  return now - source.lastFrameAt > placeholderAfterMs ? frames.placeholder : source.latestFrame;
}
