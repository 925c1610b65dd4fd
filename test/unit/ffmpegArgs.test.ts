import { describe, expect, it, test } from 'vitest';
import { eachReturns } from '../helpers/table.ts';
import {
  AUDIO_SAMPLE_RATE,
  audioDecoderArgs,
  audioEncoderArgs,
  compositorArgs,
  compositorFilter,
  compositorInputFd,
  h264Level,
  labelFilter,
  RTP_PACKET_SIZE,
  videoDecoderArgs,
  VP8_REALTIME,
  type CompositorOptions,
} from '../../mixer/ffmpeg/ffmpegArgs.ts';
import { gridLayout, type Size } from '../../mixer/logic/layout.ts';

const SOURCE: Readonly<Size> = Object.freeze({ width: 640, height: 360 });
const CANVAS: Readonly<Size> = Object.freeze({ width: 1280, height: 720 });

const compositorOptions = (inputs: number): CompositorOptions => ({
  inputs,
  source: { ...SOURCE },
  canvas: { ...CANVAS },
  tiles: gridLayout(inputs, CANVAS),
  fps: 30,
  bitrateKbps: 1500,
  keyframeInterval: 60,
  output: { port: 40000, payloadType: 96, ssrc: 1234567 },
});

const COMMON = ['-hide_banner', '-loglevel', 'warning', '-nostats'];

/** One raw compositor input as FFmpeg must see it: every flag and value its own element. */
const rawInput = (pipe: string): string[] => [
  '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-video_size', '640x360',
  '-framerate', '30', '-thread_queue_size', '2', '-i', pipe,
];

const COMPOSITOR_ENCODE = [
  '-map', '[out]',
  '-c:v', 'libvpx',
  '-deadline', 'realtime', '-cpu-used', '8', '-lag-in-frames', '0', '-error-resilient', '1', '-auto-alt-ref', '0',
  '-threads', '1',
  '-b:v', '1500k', '-maxrate', '1500k', '-bufsize', '1500k',
  '-g', '60', '-keyint_min', '60', '-force_key_frames', 'expr:eq(n,1)',
  '-f', 'rtp', '-payload_type', '96', '-ssrc', '1234567', 'rtp://127.0.0.1:40000?pkt_size=1200',
];

const FILTER_1 = '[0:v]scale=1280:720,setsar=1,pad=1280:720:0:0:color=black[out]';
const FILTER_2 =
  '[0:v]scale=640:360,setsar=1[t0];[1:v]scale=640:360,setsar=1[t1];' +
  '[t0][t1]xstack=inputs=2:layout=0_180|640_180:fill=black,pad=1280:720:0:0:color=black[out]';
const FILTER_3 =
  '[0:v]scale=640:360,setsar=1[t0];[1:v]scale=640:360,setsar=1[t1];[2:v]scale=640:360,setsar=1[t2];' +
  '[t0][t1][t2]xstack=inputs=3:layout=0_0|640_0|320_360:fill=black,pad=1280:720:0:0:color=black[out]';
const FILTER_4 =
  '[0:v]scale=640:360,setsar=1[t0];[1:v]scale=640:360,setsar=1[t1];[2:v]scale=640:360,setsar=1[t2];' +
  '[3:v]scale=640:360,setsar=1[t3];' +
  '[t0][t1][t2][t3]xstack=inputs=4:layout=0_0|640_0|0_360|640_360:fill=black,pad=1280:720:0:0:color=black[out]';

/** Every element is one token: no spaces anywhere, no empty element, and no `-flag value` pair glued together. */
function expectOneTokenPerElement(args: string[]): void {
  for (const arg of args) {
    expect(typeof arg).toBe('string');
    expect(arg, JSON.stringify(arg)).not.toBe('');
    expect(arg, JSON.stringify(arg)).not.toMatch(/\s/);
  }
}

describe('constants', () => {
  it('VP8_REALTIME holds the measured libvpx realtime settings, one element per flag and value', () => {
    expect(VP8_REALTIME).toEqual([
      '-deadline', 'realtime', '-cpu-used', '8', '-lag-in-frames', '0', '-error-resilient', '1', '-auto-alt-ref', '0',
    '-threads', '1',
    ]);
    expect(RTP_PACKET_SIZE).toBe(1200);
    expect(AUDIO_SAMPLE_RATE).toBe(48000);
  });
});

describe('videoDecoderArgs()', () => {
  const args = videoDecoderArgs({ sdpPath: '/tmp/mcu/video-40002.sdp', width: 640, height: 360 });

  it('videoDecoderArgs() reads RTP through an SDP file and writes letterboxed raw I420 to stdout', () => {
    expect(args).toEqual([
      '-hide_banner', '-loglevel', 'warning', '-nostats',
      '-protocol_whitelist', 'file,udp,rtp', '-probesize', '32', '-analyzeduration', '0',
      '-threads', '1', '-i', '/tmp/mcu/video-40002.sdp',
      '-an',
      '-vf',
      'scale=640:360:force_original_aspect_ratio=decrease:force_divisible_by=2,' +
        'pad=640:360:(ow-iw)/2:(oh-ih)/2:color=black,format=yuv420p',
      '-fps_mode', 'passthrough',
      '-f', 'rawvideo', 'pipe:1',
    ]);
  });

  it('videoDecoderArgs() never uses -fflags nobuffer (it drops the first keyframe)', () => {
    expect(args).not.toContain('nobuffer');
  });

  it('videoDecoderArgs() puts every flag and value in its own element', () => {
    expectOneTokenPerElement(args);
  });

  it('videoDecoderArgs() follows the tile-source size', () => {
    const small = videoDecoderArgs({ sdpPath: '/a.sdp', width: 320, height: 180 });
    expect(small[small.indexOf('-vf') + 1]).toBe(
      'scale=320:180:force_original_aspect_ratio=decrease:force_divisible_by=2,' +
        'pad=320:180:(ow-iw)/2:(oh-ih)/2:color=black,format=yuv420p',
    );
  });
});

describe('audioDecoderArgs()', () => {
  const args = audioDecoderArgs({ sdpPath: '/tmp/mcu/audio-40004.sdp' });

  it('audioDecoderArgs() reads RTP through an SDP file and writes mono s16le at 48 kHz to stdout', () => {
    expect(args).toEqual([
      '-hide_banner', '-loglevel', 'warning', '-nostats',
      '-protocol_whitelist', 'file,udp,rtp', '-probesize', '32', '-analyzeduration', '0',
      '-i', '/tmp/mcu/audio-40004.sdp',
      '-vn', '-ac', '1', '-ar', '48000', '-f', 's16le', 'pipe:1',
    ]);
  });

  it('audioDecoderArgs() puts every flag and value in its own element', () => {
    expectOneTokenPerElement(args);
  });
});

describe('audioEncoderArgs()', () => {
  const args = audioEncoderArgs({ bitrateKbps: 32, output: { port: 40010, payloadType: 111, ssrc: 42 } });

  it('audioEncoderArgs() reads mono s16le at 48 kHz on stdin from its first frame and sends 20 ms Opus frames as RTP', () => {
    expect(args).toEqual([
      '-hide_banner', '-loglevel', 'warning', '-nostats', '-probesize', '32', '-analyzeduration', '0',
      '-f', 's16le', '-ar', '48000', '-ac', '1', '-i', 'pipe:0',
      '-c:a', 'libopus', '-b:a', '32k', '-application', 'voip', '-frame_duration', '20',
      '-fec:a', '1', '-packet_loss:a', '10',
      '-f', 'rtp', '-payload_type', '111', '-ssrc', '42', 'rtp://127.0.0.1:40010?pkt_size=1200',
    ]);
  });

  it('audioEncoderArgs() sizes in-band FEC for the loss it is given, and leaves it out for none', () => {
    const output = { port: 40010, payloadType: 111, ssrc: 42 };
    expect(audioEncoderArgs({ bitrateKbps: 32, output, fecLossPercent: 5 })).toContain('5');
    expect(audioEncoderArgs({ bitrateKbps: 32, output, fecLossPercent: 0 })).not.toContain('-fec:a');
  });

  it('audioEncoderArgs() puts every flag and value in its own element', () => {
    expectOneTokenPerElement(args);
  });
});

describe('compositorInputFd()', () => {
  eachReturns('compositor input %i is read from fd %i (stdin, then the extra pipes after stderr)', compositorInputFd, [
    [0, 0],
    [1, 3],
    [2, 4],
    [3, 5],
    [15, 17],
  ]);
});

describe('compositorFilter()', () => {
  const filterFor = (n: number): string =>
    compositorFilter({ inputs: n, source: SOURCE, canvas: CANVAS, tiles: gridLayout(n, CANVAS) });

  it('compositorFilter() scales one input to the whole canvas and pads it', () => {
    expect(filterFor(1)).toBe(FILTER_1);
  });

  it('compositorFilter() letterboxes two 16:9 inputs in two tall tiles with xstack', () => {
    expect(filterFor(2)).toBe(FILTER_2);
  });

  it('compositorFilter() stacks four inputs in a 2x2 grid', () => {
    expect(filterFor(4)).toBe(FILTER_4);
  });

  it('compositorFilter() letterboxes a 4:3 single input inside the canvas', () => {
    expect(
      compositorFilter({
        inputs: 1,
        source: { width: 640, height: 480 },
        canvas: CANVAS,
        tiles: [{ x: 0, y: 0, width: 1280, height: 720 }],
      }),
    ).toBe('[0:v]scale=960:720,setsar=1,pad=1280:720:160:0:color=black[out]');
  });

  it('compositorFilter() has no spaces, so it stays one argv element', () => {
    for (const n of [1, 2, 3, 4, 9, 16, 25]) expect(filterFor(n)).not.toMatch(/\s/);
  });

  test.each([
    ['more tiles than inputs', 2, 3],
    ['fewer tiles than inputs', 3, 2],
    ['no inputs at all', 0, 0],
  ])('compositorFilter() throws a RangeError for %s', (_what, inputs, tileCount) => {
    expect(() =>
      compositorFilter({ inputs, source: SOURCE, canvas: CANVAS, tiles: gridLayout(tileCount, CANVAS) }),
    ).toThrow(RangeError);
  });
});

describe('compositorArgs()', () => {
  it('compositorArgs() for one input reads raw I420 from stdin and sends VP8 as RTP', () => {
    expect(compositorArgs(compositorOptions(1))).toEqual([
      ...COMMON,
      ...rawInput('pipe:0'),
      '-filter_complex', FILTER_1,
      ...COMPOSITOR_ENCODE,
    ]);
  });

  it('compositorArgs() for three inputs reads stdin, fd 3 and fd 4', () => {
    expect(compositorArgs(compositorOptions(3))).toEqual([
      ...COMMON,
      ...rawInput('pipe:0'),
      ...rawInput('pipe:3'),
      ...rawInput('pipe:4'),
      '-filter_complex', FILTER_3,
      ...COMPOSITOR_ENCODE,
    ]);
  });

  it('compositorArgs() with an H.264 output splits the picture and encodes it twice, VP8 first', () => {
    const options = { ...compositorOptions(1), h264Output: { port: 40002, payloadType: 102, ssrc: 7654321 } };
    expect(compositorArgs(options)).toEqual([
      ...COMMON,
      ...rawInput('pipe:0'),
      '-filter_complex', `${FILTER_1};[out]split=2[vp8][h264]`,
      '-map', '[vp8]',
      ...COMPOSITOR_ENCODE.slice(2),
      '-map', '[h264]', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency',
      '-profile:v', 'baseline', '-level:v', '3.1', '-pix_fmt', 'yuv420p', '-threads', '1',
      '-b:v', '1500k', '-maxrate', '1500k', '-bufsize', '1500k',
      '-g', '60', '-keyint_min', '60', '-force_key_frames', 'expr:eq(n,1)',
      '-f', 'rtp', '-payload_type', '102', '-ssrc', '7654321', 'rtp://127.0.0.1:40002?pkt_size=1200',
    ]);
  });

  it('compositorArgs() makes the second frame a keyframe, in both encodes (the first is a warm-up nobody sees)', () => {
    const options = { ...compositorOptions(1), h264Output: { port: 40002, payloadType: 102, ssrc: 7654321 } };
    const args = compositorArgs(options);
    const forced = args.flatMap((arg, i) => (arg === '-force_key_frames' ? [args[i + 1]] : []));
    expect(forced).toEqual(['expr:eq(n,1)', 'expr:eq(n,1)']);
  });

  eachReturns('h264Level(%o) is %s', h264Level, [
    [{ width: 640, height: 360 }, '3.1'],
    [{ width: 1280, height: 720 }, '3.1'],
    [{ width: 1920, height: 1080 }, '4.0'],
  ]);

  it('compositorArgs() for three inputs, written out literally in full', () => {
    // The same array without helpers, so that a mistake shared by a helper and the code shows up.
    expect(compositorArgs(compositorOptions(3))).toEqual([
      '-hide_banner', '-loglevel', 'warning', '-nostats',
      '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-video_size', '640x360', '-framerate', '30', '-thread_queue_size', '2', '-i', 'pipe:0',
      '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-video_size', '640x360', '-framerate', '30', '-thread_queue_size', '2', '-i', 'pipe:3',
      '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-video_size', '640x360', '-framerate', '30', '-thread_queue_size', '2', '-i', 'pipe:4',
      '-filter_complex',
      '[0:v]scale=640:360,setsar=1[t0];[1:v]scale=640:360,setsar=1[t1];[2:v]scale=640:360,setsar=1[t2];' +
        '[t0][t1][t2]xstack=inputs=3:layout=0_0|640_0|320_360:fill=black,pad=1280:720:0:0:color=black[out]',
      '-map', '[out]',
      '-c:v', 'libvpx',
      '-deadline', 'realtime', '-cpu-used', '8', '-lag-in-frames', '0', '-error-resilient', '1', '-auto-alt-ref', '0',
      '-threads', '1',
      '-b:v', '1500k', '-maxrate', '1500k', '-bufsize', '1500k',
      '-g', '60', '-keyint_min', '60', '-force_key_frames', 'expr:eq(n,1)',
      '-f', 'rtp', '-payload_type', '96', '-ssrc', '1234567', 'rtp://127.0.0.1:40000?pkt_size=1200',
    ]);
  });

  it('compositorArgs() names each input pipe by compositorInputFd()', () => {
    const args = compositorArgs(compositorOptions(16));
    const pipes = args.filter((_, i) => args[i - 1] === '-i');
    expect(pipes).toEqual(Array.from({ length: 16 }, (_, i) => `pipe:${compositorInputFd(i)}`));
  });

  it('compositorArgs() keeps every flag and value in its own element (the filter graph is one element)', () => {
    for (const n of [1, 3, 16]) {
      const args = compositorArgs(compositorOptions(n));
      expectOneTokenPerElement(args);
      for (const arg of args) expect(arg.startsWith(' ')).toBe(false);
      // Every flag is followed by its value, never glued to it.
      for (const flag of ['-f', '-pix_fmt', '-video_size', '-framerate', '-i', '-c:v', '-b:v', '-g', '-ssrc']) {
        expect(args).toContain(flag);
      }
      expect(args.filter((a) => a.startsWith('-') && a.includes('='))).toEqual([]);
      expect(args.filter((a) => a === '-filter_complex')).toHaveLength(1);
    }
  });

  it('compositorArgs() throws a RangeError when the tiles do not match the inputs', () => {
    expect(() => compositorArgs({ ...compositorOptions(3), tiles: gridLayout(2, CANVAS) })).toThrow(RangeError);
    expect(() => compositorArgs({ ...compositorOptions(2), inputs: 3 })).toThrow(RangeError);
  });
});

describe('tile labels', () => {
  const label = { fontFile: '/fonts/Sans.ttf', textFile: '/tmp/s/label-1.txt' };

  it('labelFilter() draws the text file, unexpanded, at the bottom left, sized to the picture', () => {
    expect(labelFilter(label, 360)).toBe(
      'drawtext=fontfile=/fonts/Sans.ttf:textfile=/tmp/s/label-1.txt:expansion=none:fontsize=20:' +
        'fontcolor=white:box=1:boxcolor=black@0.55:boxborderw=7:x=10:y=h-th-10',
    );
  });

  it('labelFilter() never makes text smaller than 12 pixels', () => {
    expect(labelFilter(label, 90)).toContain('fontsize=12:');
  });

  it('compositorFilter() labels each tile that has a label, after scaling it', () => {
    const filter = compositorFilter({
      inputs: 2,
      source: { width: 640, height: 360 },
      canvas: { width: 1280, height: 720 },
      tiles: gridLayout(2, { width: 1280, height: 720 }),
      labels: [label, undefined],
    });
    expect(filter).toBe(
      `[0:v]scale=640:360,setsar=1,${labelFilter(label, 360)}[t0];[1:v]scale=640:360,setsar=1[t1];` +
        '[t0][t1]xstack=inputs=2:layout=0_180|640_180:fill=black,pad=1280:720:0:0:color=black[out]',
    );
  });
});
