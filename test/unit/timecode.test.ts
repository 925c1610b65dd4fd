import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { gridLayout, letterbox, type Size, type Tile } from '../../mixer/logic/layout.ts';
import {
  TIMECODE_BLOCKS,
  decodeTimecode,
  drawTimecode,
  encodeTimecode,
  i420Size,
  msSince,
  readTimecode,
  timecodeFilter,
  timecodeGeometry,
  wrapMs,
  type I420Frame,
  type RgbFrame,
} from '../../mixer/logic/timecode.ts';

const ctx = Object.freeze({
  source: Object.freeze<Size>({ width: 640, height: 360 }),
  /** A wall-clock time in 2024, beyond 2^32 ms. */
  now: 1_718_000_123_456,
});

/** A grey-ish I420 picture with the code for `ms` drawn on it. */
function codedFrame(ms: number, size: Size = ctx.source, y = 90, u = 100, v = 200): I420Frame {
  const data = new Uint8Array(i420Size(size.width, size.height));
  const lumaSize = size.width * size.height;
  data.fill(y, 0, lumaSize);
  data.fill(u, lumaSize, lumaSize + (data.length - lumaSize) / 2);
  data.fill(v, lumaSize + (data.length - lumaSize) / 2);
  return drawTimecode({ format: 'i420', width: size.width, height: size.height, data }, ms);
}

/** Bilinear resize of the luma plane (chroma left neutral): what a scaler does to the code. */
function scaleLuma(frame: I420Frame, width: number, height: number): I420Frame {
  const data = new Uint8Array(i420Size(width, height)).fill(128);
  const sx = frame.width / width;
  const sy = frame.height / height;
  for (let y = 0; y < height; y++) {
    // Area-ish: average of the bilinear samples at the destination pixel's quarter points.
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (const [dx, dy] of [[0.25, 0.25], [0.75, 0.25], [0.25, 0.75], [0.75, 0.75]] as const) {
        const fx = Math.min(frame.width - 1, Math.max(0, (x + dx) * sx - 0.5));
        const fy = Math.min(frame.height - 1, Math.max(0, (y + dy) * sy - 0.5));
        const x0 = Math.floor(fx);
        const y0 = Math.floor(fy);
        const x1 = Math.min(frame.width - 1, x0 + 1);
        const y1 = Math.min(frame.height - 1, y0 + 1);
        const ax = fx - x0;
        const ay = fy - y0;
        const at = (px: number, py: number): number => frame.data[py * frame.width + px]!;
        sum += (at(x0, y0) * (1 - ax) + at(x1, y0) * ax) * (1 - ay) + (at(x0, y1) * (1 - ax) + at(x1, y1) * ax) * ay;
      }
      data[y * width + x] = Math.round(sum / 4);
    }
  }
  return { format: 'i420', width, height, data };
}

/** A black canvas with `picture` pasted at `box` (luma only). */
function compose(canvas: Size, pictures: { picture: I420Frame; box: Tile }[]): I420Frame {
  const data = new Uint8Array(i420Size(canvas.width, canvas.height)).fill(128);
  data.fill(16, 0, canvas.width * canvas.height);
  for (const { picture, box } of pictures) {
    for (let y = 0; y < box.height; y++) {
      const row = picture.data.subarray(y * picture.width, y * picture.width + box.width);
      data.set(row, (box.y + y) * canvas.width + box.x);
    }
  }
  return { format: 'i420', width: canvas.width, height: canvas.height, data };
}

/** Deterministic noise (a small LCG) of ±amplitude on every luma sample. */
function addNoise(frame: I420Frame, amplitude: number, seed = 1): I420Frame {
  let state = seed;
  const random = (): number => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const lumaSize = frame.width * frame.height;
  for (let i = 0; i < lumaSize; i++) {
    frame.data[i] = Math.max(0, Math.min(255, Math.round(frame.data[i]! + (2 * random() - 1) * amplitude)));
  }
  return frame;
}

function toRgb(frame: I420Frame): RgbFrame {
  const data = new Uint8Array(frame.width * frame.height * 3);
  const lumaSize = frame.width * frame.height;
  const chromaWidth = Math.ceil(frame.width / 2);
  const chromaSize = chromaWidth * Math.ceil(frame.height / 2);
  for (let y = 0; y < frame.height; y++) {
    for (let x = 0; x < frame.width; x++) {
      const c = (y >> 1) * chromaWidth + (x >> 1);
      const Y = 1.164 * (frame.data[y * frame.width + x]! - 16);
      const U = frame.data[lumaSize + c]! - 128;
      const V = frame.data[lumaSize + chromaSize + c]! - 128;
      const i = (y * frame.width + x) * 3;
      data[i] = Math.max(0, Math.min(255, Math.round(Y + 1.596 * V)));
      data[i + 1] = Math.max(0, Math.min(255, Math.round(Y - 0.392 * U - 0.813 * V)));
      data[i + 2] = Math.max(0, Math.min(255, Math.round(Y + 2.017 * U)));
    }
  }
  return { format: 'rgb24', width: frame.width, height: frame.height, data };
}

const fullFrame = (size: Size): Tile => ({ x: 0, y: 0, width: size.width, height: size.height });

describe('encodeTimecode() and decodeTimecode()', () => {
  test.each([0, 1, 2 ** 31, 2 ** 32 - 1, ctx.now, 1_234_567])('round trip of %d ms', (ms) => {
    const bits = encodeTimecode(ms);
    expect(bits).toHaveLength(TIMECODE_BLOCKS);
    expect(decodeTimecode(bits)).toBe(wrapMs(ms));
  });

  test('every one of the 32 data bits is carried on its own', () => {
    for (let bit = 0; bit < 32; bit++) {
      const ms = 2 ** bit;
      expect(decodeTimecode(encodeTimecode(ms))).toBe(ms);
      expect(encodeTimecode(ms).slice(2, 34).indexOf(1)).toBe(31 - bit);
    }
  });

  test('a code with any single block flipped is rejected', () => {
    const bits = encodeTimecode(ctx.now);
    for (let i = 0; i < TIMECODE_BLOCKS; i++) {
      const flipped = [...bits];
      flipped[i] = 1 - flipped[i]!;
      expect(decodeTimecode(flipped), `block ${i}`).toBeUndefined();
    }
  });

  test('a row of the wrong length, all black or all white, is no code', () => {
    expect(decodeTimecode(encodeTimecode(5).slice(1))).toBeUndefined();
    expect(decodeTimecode(new Array<number>(TIMECODE_BLOCKS).fill(0))).toBeUndefined();
    expect(decodeTimecode(new Array<number>(TIMECODE_BLOCKS).fill(1))).toBeUndefined();
  });
});

describe('msSince()', () => {
  test('is the signed difference modulo 2^32', () => {
    expect(msSince(ctx.now + 80, wrapMs(ctx.now))).toBe(80);
    expect(msSince(ctx.now - 3, wrapMs(ctx.now))).toBe(-3);
    // The code wrapped between drawing and arrival.
    expect(msSince(2 ** 32 + 10, 2 ** 32 - 20)).toBe(30);
  });
});

describe('timecodeGeometry()', () => {
  test('a 640x360 picture has 16x32 px blocks', () => {
    expect(timecodeGeometry(ctx.source)).toEqual({ blockWidth: 16, blockHeight: 32 });
  });

  test('a picture too small for 4 px blocks is refused', () => {
    expect(() => timecodeGeometry({ width: 120, height: 90 })).toThrow(RangeError);
  });
});

describe('readTimecode()', () => {
  test('reads the code of a whole 640x360 picture, I420 and RGB', () => {
    const frame = codedFrame(ctx.now);
    expect(readTimecode(frame, fullFrame(ctx.source), ctx.source)?.ms).toBe(wrapMs(ctx.now));
    expect(readTimecode(toRgb(frame), fullFrame(ctx.source), ctx.source)?.ms).toBe(wrapMs(ctx.now));
  });

  test.each([
    { scale: '1/2 (4x4 grid of a 1280x720 composite)', canvas: { width: 1280, height: 720 }, count: 16 },
    { scale: '2/3 (3x3 grid of a 1280x720 composite)', canvas: { width: 1280, height: 720 }, count: 9 },
    { scale: '1/3 (3x3 grid of a 640x360 composite)', canvas: { width: 640, height: 360 }, count: 9 },
  ])('reads every tile of a composite scaled to $scale', ({ canvas, count }) => {
    const boxes = gridLayout(count, canvas).map((tile) => letterbox(ctx.source, tile));
    const times = boxes.map((_, i) => ctx.now + 1000 * i + 33 * i * i);
    const composite = compose(
      canvas,
      boxes.map((box, i) => ({ picture: scaleLuma(codedFrame(times[i]!), box.width, box.height), box })),
    );
    expect(boxes.map((box) => readTimecode(composite, box, ctx.source)?.ms)).toEqual(times.map(wrapMs));
  });

  test('tolerates noise of ±40 on a 1/3 picture, and an RGB copy of it', () => {
    const canvas = { width: 640, height: 360 };
    const boxes = gridLayout(9, canvas).map((tile) => letterbox(ctx.source, tile));
    for (let seed = 1; seed <= 5; seed++) {
      const times = boxes.map((_, i) => ctx.now + 7919 * seed + 104_729 * i);
      const composite = addNoise(
        compose(canvas, boxes.map((box, i) => ({ picture: scaleLuma(codedFrame(times[i]!), box.width, box.height), box }))),
        40,
        seed,
      );
      expect(boxes.map((box) => readTimecode(composite, box, ctx.source)?.ms)).toEqual(times.map(wrapMs));
      expect(boxes.map((box) => readTimecode(toRgb(composite), box, ctx.source)?.ms)).toEqual(times.map(wrapMs));
    }
  });

  test('a picture without a code, or drowned in noise, reads as nothing rather than a wrong time', () => {
    const plain = codedFrame(0);
    plain.data.fill(90, 0, plain.width * plain.height);
    expect(readTimecode(plain, fullFrame(ctx.source), ctx.source)).toBeUndefined();
    let wrong = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const noisy = addNoise(codedFrame(ctx.now), 400, seed);
      const reading = readTimecode(noisy, fullFrame(ctx.source), ctx.source);
      if (reading && reading.ms !== wrapMs(ctx.now)) wrong++;
    }
    expect(wrong).toBeLessThanOrEqual(1);
  });

  test('the margin says how clean the code is', () => {
    const clean = readTimecode(codedFrame(ctx.now), fullFrame(ctx.source), ctx.source);
    expect(clean?.margin).toBeCloseTo(0.5);
    expect(clean?.contrast).toBe(219);
  });
});

describe('timecodeFilter()', () => {
  test('draws a black strip, the white marker and one box per bit, with the wall clock as frame time', () => {
    const filter = timecodeFilter({ width: 640, height: 360, fps: 30, clock: 'wall' }).split(',drawbox=');
    expect(filter[0]).toBe('format=yuv420p,settb=1/1000,setpts=floor(RTCTIME/1000)');
    expect(filter[1]).toBe('x=0:y=0:w=640:h=32:color=black:t=fill');
    expect(filter[2]).toBe('x=0:y=0:w=16:h=32:color=white:t=fill');
    // 38 conditional boxes: the 32 data bits, MSB first, then the 6 bits of the count.
    expect(filter.slice(3)).toHaveLength(38);
    expect(filter[3]).toBe("x=32:y=0:w=16:h=32:color=white:t=fill:enable='mod(floor(mod(floor(t*1000+0.5),4294967296)/2147483648),2)'");
    expect(filter[34]).toBe("x=528:y=0:w=16:h=32:color=white:t=fill:enable='mod(floor(mod(floor(t*1000+0.5),4294967296)/1),2)'");
    expect(filter[40]).toMatch(/^x=624:y=0:w=16:h=32:color=white:t=fill:enable='mod\(floor\(\(st\(0,.*\)\/1\),2\)',settb=1\/30,setpts=N$/);
  });

  test('a clip keeps its own timestamps', () => {
    const filter = timecodeFilter({ width: 640, height: 360, fps: 30, clock: 'pts' });
    expect(filter).not.toContain('RTCTIME');
    expect(filter).not.toContain('setpts');
  });

  test('the blocks follow the picture size', () => {
    expect(timecodeFilter({ width: 1280, height: 720, fps: 30, clock: 'pts' })).toContain('drawbox=x=64:y=0:w=32:h=64:color=white:t=fill:enable=');
  });

  test('refuses a bad frame rate', () => {
    expect(() => timecodeFilter({ width: 640, height: 360, fps: 0, clock: 'wall' })).toThrow(RangeError);
  });

  test('FFmpeg draws exactly the code the reader expects', () => {
    // A frame whose time is ctx.now (ms timestamps), drawn by the 'pts' variant of the filter.
    const filter = `settb=1/1000,setpts=PTS+${ctx.now},${timecodeFilter({ width: 640, height: 360, fps: 30, clock: 'pts' })}`;
    const result = spawnSync(
      'ffmpeg',
      ['-hide_banner', '-nostdin', '-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=orange:s=640x360:r=30',
        '-vf', filter, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1'],
      { timeout: 20_000, maxBuffer: 4 * 2 ** 20 },
    );
    expect(result.stderr.toString()).toBe('');
    const frame: I420Frame = { format: 'i420', width: 640, height: 360, data: new Uint8Array(result.stdout) };
    expect(frame.data.length).toBe(i420Size(640, 360));
    expect(readTimecode(frame, fullFrame(ctx.source), ctx.source)?.ms).toBe(wrapMs(ctx.now));
  });
});
