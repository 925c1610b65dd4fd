/**
 * A machine-readable wall-clock code drawn into a picture, for measuring glass-to-glass latency
 * through the composite (the bot's `--timecode`, `npm run bench`).
 *
 * The code is one row of 40 black/white blocks across the top of the source picture:
 *   block 0 white, block 1 black        a marker, and the reader's black and white levels
 *   blocks 2-33                         the time in ms mod 2^32, most significant bit first
 *   blocks 34-39                        the number of 1 bits in those 32 (0-32), MSB first
 * A 640x360 picture has 16x32 blocks, so that a tile of a 4x4 grid (0.5x) still has 8x16 px
 * blocks and a 0.33x tile 5x10 px. The reader samples the middle half of each block, takes
 * its threshold from the two marker blocks and rejects a code whose count does not match.
 *
 * Pure: the FFmpeg filter that draws the code is a string, and the reader takes pixels.
 * Drawn as FFmpeg draws it: black is luma 16 and white 235 (limited range).
 */

import type { Size, Tile } from './layout.ts';

export const TIMECODE_BLOCKS = 40;
export const TIMECODE_DATA_BITS = 32;
export const TIMECODE_CHECK_BITS = 6;
const MARKER = [1, 0] as const;
const DATA_START = MARKER.length;
const CHECK_START = DATA_START + TIMECODE_DATA_BITS;
/** The code counts milliseconds modulo 2^32 (about 49.7 days). */
export const TIMECODE_MODULUS = 2 ** 32;
/** Luma of a black and a white block as drawn (limited-range BT.601, as FFmpeg's yuv420p). */
export const TIMECODE_BLACK = 16;
export const TIMECODE_WHITE = 235;
/** A code whose marker blocks differ by less than this (0-255 luma) is not read. */
export const MIN_CONTRAST = 48;

export interface TimecodeGeometry {
  /** Width and height of one block in source pixels. */
  blockWidth: number;
  blockHeight: number;
}

/** Block size for a source picture: 40 blocks across, each twice as high as it is wide. */
export function timecodeGeometry(source: Size): TimecodeGeometry {
  const blockWidth = Math.floor(source.width / TIMECODE_BLOCKS);
  const blockHeight = 2 * blockWidth;
  if (blockWidth < 4 || blockHeight > source.height) {
    throw new RangeError(`a ${source.width}x${source.height} picture is too small for a timecode (at least 160x8)`);
  }
  return { blockWidth, blockHeight };
}

/** A time in ms reduced to what the code holds. */
export function wrapMs(ms: number): number {
  const wrapped = Math.floor(ms) % TIMECODE_MODULUS;
  return wrapped < 0 ? wrapped + TIMECODE_MODULUS : wrapped;
}

/**
 * `later - earlier` in ms for two times of which `earlier` is known only modulo 2^32, as a signed
 * difference in [-2^31, 2^31): the latency of a frame from its arrival time and its code.
 */
export function msSince(later: number, earlierWrapped: number): number {
  const diff = wrapMs(wrapMs(later) - earlierWrapped);
  return diff >= TIMECODE_MODULUS / 2 ? diff - TIMECODE_MODULUS : diff;
}

function popcount(n: number): number {
  let count = 0;
  for (let v = n; v > 0; v = Math.floor(v / 2)) count += v % 2;
  return count;
}

/** The 40 blocks (1 white, 0 black) that carry `ms`. */
export function encodeTimecode(ms: number): number[] {
  const value = wrapMs(ms);
  const bits: number[] = [...MARKER];
  for (let i = TIMECODE_DATA_BITS - 1; i >= 0; i--) bits.push(Math.floor(value / 2 ** i) % 2);
  const check = popcount(value);
  for (let i = TIMECODE_CHECK_BITS - 1; i >= 0; i--) bits.push(Math.floor(check / 2 ** i) % 2);
  return bits;
}

/** The ms a row of 40 blocks carries, or undefined if its marker or its count is wrong. */
export function decodeTimecode(bits: readonly number[]): number | undefined {
  if (bits.length !== TIMECODE_BLOCKS || bits[0] !== MARKER[0] || bits[1] !== MARKER[1]) return undefined;
  let value = 0;
  for (let i = 0; i < TIMECODE_DATA_BITS; i++) value = value * 2 + (bits[DATA_START + i] ? 1 : 0);
  let check = 0;
  for (let i = 0; i < TIMECODE_CHECK_BITS; i++) check = check * 2 + (bits[CHECK_START + i] ? 1 : 0);
  return check === popcount(value) ? value : undefined;
}

export interface TimecodeFilterOptions {
  width: number;
  height: number;
  fps: number;
  /**
   * `wall`: each frame carries the wall-clock time at which it passed the filter (FFmpeg's
   * RTCTIME), and leaves with its usual timestamps (frame number / fps). `pts`: the frame's own
   * time since the start of the stream, timestamps untouched (pre-encoded clips).
   */
  clock: 'wall' | 'pts';
}

/** The code's ms from the frame time `t` (seconds), as an FFmpeg expression. */
const MS_EXPRESSION = `mod(floor(t*1000+0.5),${TIMECODE_MODULUS})`;
/** The number of 1 bits of the code's ms, as an FFmpeg expression (variables 0 and 1 are scratch). */
const COUNT_EXPRESSION = `st(0,${MS_EXPRESSION});st(1,0);while(ld(0),st(1,ld(1)+mod(ld(0),2));st(0,floor(ld(0)/2)));ld(1)`;

/**
 * When block `b` is white, as an FFmpeg timeline (`enable`) expression of the frame time.
 * Blocks 0 and 1 (the marker) are drawn unconditionally.
 */
function blockEnable(b: number): string {
  if (b < CHECK_START) return `mod(floor(${MS_EXPRESSION}/${2 ** (CHECK_START - 1 - b)}),2)`;
  return `mod(floor((${COUNT_EXPRESSION})/${2 ** (TIMECODE_BLOCKS - 1 - b)}),2)`;
}

/**
 * A simple FFmpeg filter chain (one input, one output: usable as `-vf`) that draws the code over
 * the top rows of the picture: a black strip, the white marker block, then one `drawbox` per
 * block whose `enable` expression is that bit of the frame time. Each box touches only its own
 * pixels. Measured here with FFmpeg 5.1 on a 640x360 30 fps colour source paced at real time:
 * the chain costs 0.016 of a core without an encoder; with libvpx realtime (one thread) the
 * source took 0.066 of a core against 0.056 without the code. (A first version drew the strip
 * with `geq` on a 40x2 crop and `overlay`: 0.095 against 0.057, overlay alone 0.044.)
 */
export function timecodeFilter(o: TimecodeFilterOptions): string {
  const { blockWidth, blockHeight } = timecodeGeometry(o);
  if (!Number.isInteger(o.fps) || o.fps < 1 || o.fps > 120) throw new RangeError(`fps must be an integer from 1 to 120, got ${o.fps}`);
  const box = (b: number, width: number, color: 'black' | 'white'): string =>
    `drawbox=x=${b * blockWidth}:y=0:w=${width}:h=${blockHeight}:color=${color}:t=fill`;
  const filters = ['format=yuv420p'];
  // Millisecond timestamps holding the wall clock while the code is drawn (t = pts × 1/1000).
  if (o.clock === 'wall') filters.push('settb=1/1000', 'setpts=floor(RTCTIME/1000)');
  filters.push(box(0, TIMECODE_BLOCKS * blockWidth, 'black'), box(0, blockWidth, 'white'));
  for (let b = DATA_START; b < TIMECODE_BLOCKS; b++) filters.push(`${box(b, blockWidth, 'white')}:enable='${blockEnable(b)}'`);
  // Back to frame-numbered timestamps, as the source had: the encoder and muxer see no jump.
  if (o.clock === 'wall') filters.push(`settb=1/${o.fps}`, 'setpts=N');
  return filters.join(',');
}

/** A picture as planes of bytes: packed I420 (Y, then U, then V at half size) or packed RGB24. */
export interface I420Frame {
  format: 'i420';
  width: number;
  height: number;
  data: Uint8Array;
}

export interface RgbFrame {
  format: 'rgb24';
  width: number;
  height: number;
  data: Uint8Array;
}

export type Frame = I420Frame | RgbFrame;

/** Bytes in an I420 frame of this size. */
export function i420Size(width: number, height: number): number {
  return width * height + 2 * (Math.ceil(width / 2) * Math.ceil(height / 2));
}

/** Luma (0-255) at (x, y); RGB is weighted as BT.601. */
export function lumaAt(frame: Frame, x: number, y: number): number {
  if (frame.format === 'i420') return frame.data[y * frame.width + x]!;
  const i = (y * frame.width + x) * 3;
  return 0.299 * frame.data[i]! + 0.587 * frame.data[i + 1]! + 0.114 * frame.data[i + 2]!;
}

/** Mean luma of the pixels whose centres lie in [x0, x1) × [y0, y1), clipped to the frame; at least one pixel. */
function meanLuma(frame: Frame, x0: number, x1: number, y0: number, y1: number): number {
  const clampX = (v: number): number => Math.min(frame.width - 1, Math.max(0, v));
  const clampY = (v: number): number => Math.min(frame.height - 1, Math.max(0, v));
  let xa = clampX(Math.ceil(x0 - 0.5));
  let xb = clampX(Math.ceil(x1 - 0.5) - 1);
  let ya = clampY(Math.ceil(y0 - 0.5));
  let yb = clampY(Math.ceil(y1 - 0.5) - 1);
  if (xb < xa) xa = xb = clampX(Math.floor((x0 + x1) / 2));
  if (yb < ya) ya = yb = clampY(Math.floor((y0 + y1) / 2));
  let sum = 0;
  for (let y = ya; y <= yb; y++) for (let x = xa; x <= xb; x++) sum += lumaAt(frame, x, y);
  return sum / ((xb - xa + 1) * (yb - ya + 1));
}

export interface TimecodeReading {
  /** The code: ms mod 2^32. */
  ms: number;
  /** Luma of the white marker minus the black marker. */
  contrast: number;
  /** The block closest to the threshold, as a share of the contrast (0.5 = perfectly clean). */
  margin: number;
}

/**
 * Reads the code of a `source`-sized picture shown in `box` of `frame` (the letterboxed
 * rectangle: `letterbox(source, tile)` from layout.ts, or the whole frame for a direct
 * recording). Undefined when there is no readable code there.
 */
export function readTimecode(frame: Frame, box: Tile, source: Size): TimecodeReading | undefined {
  const { blockWidth, blockHeight } = timecodeGeometry(source);
  const sx = box.width / source.width;
  const sy = box.height / source.height;
  const y0 = box.y + 0.25 * blockHeight * sy;
  const y1 = box.y + 0.75 * blockHeight * sy;
  const levels: number[] = [];
  for (let b = 0; b < TIMECODE_BLOCKS; b++) {
    const x0 = box.x + (b + 0.25) * blockWidth * sx;
    const x1 = box.x + (b + 0.75) * blockWidth * sx;
    levels.push(meanLuma(frame, x0, x1, y0, y1));
  }
  const white = levels[0]!;
  const black = levels[1]!;
  const contrast = white - black;
  if (contrast < MIN_CONTRAST) return undefined;
  const threshold = (white + black) / 2;
  const bits = levels.map((level) => (level > threshold ? 1 : 0));
  const ms = decodeTimecode(bits);
  if (ms === undefined) return undefined;
  const margin = Math.min(...levels.map((level) => Math.abs(level - threshold))) / contrast;
  return { ms, contrast, margin };
}

/**
 * Draws the code for `ms` over the top of an I420 picture, as the FFmpeg filter does: the tests
 * check the reader against it without FFmpeg. Returns the same frame.
 */
export function drawTimecode(frame: I420Frame, ms: number): I420Frame {
  const { blockWidth, blockHeight } = timecodeGeometry(frame);
  const bits = encodeTimecode(ms);
  const chromaWidth = Math.ceil(frame.width / 2);
  const lumaSize = frame.width * frame.height;
  const chromaSize = chromaWidth * Math.ceil(frame.height / 2);
  for (let b = 0; b < TIMECODE_BLOCKS; b++) {
    const level = bits[b] ? TIMECODE_WHITE : TIMECODE_BLACK;
    for (let y = 0; y < blockHeight; y++) {
      frame.data.fill(level, y * frame.width + b * blockWidth, y * frame.width + (b + 1) * blockWidth);
    }
  }
  // Neutral chroma under the strip.
  for (let y = 0; y < blockHeight / 2; y++) {
    const start = y * chromaWidth;
    const end = start + (TIMECODE_BLOCKS * blockWidth) / 2;
    frame.data.fill(128, lumaSize + start, lumaSize + end);
    frame.data.fill(128, lumaSize + chromaSize + start, lumaSize + chromaSize + end);
  }
  return frame;
}
