import { describe, expect, test } from 'vitest';
import { eachReturns } from '../helpers/table.ts';
import {
  checkRecordingCodec,
  fileSourceArgs,
  h264LevelProblem,
  isFfmpegColor,
  probeStreamsArgs,
  receiverArgs,
  recordingFormat,
  syntheticSourceArgs,
  type AudioOutput,
  type VideoOutput,
} from '../../src/bot/botArgs.ts';
import { timecodeFilter } from '../../mixer/logic/timecode.ts';

const ctx = Object.freeze({
  video: Object.freeze<VideoOutput>({
    port: 50000,
    payloadType: 96,
    ssrc: 1234,
    codec: 'VP8',
    width: 640,
    height: 360,
    fps: 30,
    bitrateKbps: 800,
  }),
  audio: Object.freeze<AudioOutput>({ port: 50002, payloadType: 111, ssrc: 5678 }),
  h264: Object.freeze<VideoOutput>({
    port: 50004,
    payloadType: 102,
    ssrc: 4321,
    codec: 'H264',
    width: 640,
    height: 360,
    fps: 30,
    bitrateKbps: 800,
  }),
});

const COMMON = ['-hide_banner', '-nostdin', '-loglevel', 'warning', '-nostats'];
const VP8_OUT_640 = [
  '-map', '0:v:0', '-c:v', 'libvpx', '-b:v', '800k',
  '-deadline', 'realtime', '-cpu-used', '8', '-lag-in-frames', '0', '-error-resilient', '1', '-auto-alt-ref', '0',
  '-threads', '1',
  '-g', '30', '-keyint_min', '30', '-pix_fmt', 'yuv420p',
  '-payload_type', '96', '-ssrc', '1234', '-f', 'rtp', 'rtp://127.0.0.1:50000?pkt_size=1200&rtcpport=50000&connect=1',
];
const H264_OUT_640 = [
  '-map', '0:v:0', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-level:v', '3.1',
  '-pix_fmt', 'yuv420p', '-b:v', '800k', '-maxrate', '800k', '-bufsize', '800k', '-g', '30', '-keyint_min', '30', '-threads', '1',
  '-payload_type', '102', '-ssrc', '4321', '-f', 'rtp', 'rtp://127.0.0.1:50004?pkt_size=1200&rtcpport=50004&connect=1',
];
const opusOut = (input: string): string[] => [
  '-map', input, '-c:a', 'libopus', '-b:a', '32k', '-ac', '2', '-ar', '48000', '-application', 'voip', '-frame_duration', '20',
  '-payload_type', '111', '-ssrc', '5678', '-f', 'rtp', 'rtp://127.0.0.1:50002?pkt_size=1200&rtcpport=50002&connect=1',
];

/** A 640x360 colour and a 440 Hz tone: both paced lavfi inputs, the given video output, then Opus from input 1. */
function expectColourAndTone(color: string, video: VideoOutput, videoOut: string[]): void {
  expect(syntheticSourceArgs({ color, toneHz: 440, video, audio: ctx.audio })).toEqual([
    ...COMMON,
    '-re', '-f', 'lavfi', '-i', `color=c=${color}:s=640x360:r=30`,
    '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    ...videoOut,
    ...opusOut('1:a:0'),
  ]);
}

describe('syntheticSourceArgs()', () => {
  test('sends a paced colour as VP8 and a paced tone as Opus, each to its own RTP port', () => {
    expectColourAndTone('red', ctx.video, VP8_OUT_640);
  });

  test('an audio-only bot has one lavfi input, mapped as input 0', () => {
    expect(syntheticSourceArgs({ color: '0x00FF7f', toneHz: 0, audio: ctx.audio })).toEqual([
      ...COMMON, '-re', '-f', 'lavfi', '-i', 'sine=frequency=0:sample_rate=48000', ...opusOut('0:a:0'),
    ]);
  });

  test('the keyframe interval is one second at any frame rate', () => {
    const args = syntheticSourceArgs({ color: '#123456', toneHz: 1000, video: { ...ctx.video, fps: 15, width: 320, height: 180, bitrateKbps: 250 } });
    expect(args).toEqual([
      ...COMMON, '-re', '-f', 'lavfi', '-i', 'color=c=#123456:s=320x180:r=15',
      '-map', '0:v:0', '-c:v', 'libvpx', '-b:v', '250k',
      '-deadline', 'realtime', '-cpu-used', '8', '-lag-in-frames', '0', '-error-resilient', '1', '-auto-alt-ref', '0',
      '-threads', '1',
      '-g', '15', '-keyint_min', '15', '-pix_fmt', 'yuv420p',
      '-payload_type', '96', '-ssrc', '1234', '-f', 'rtp', 'rtp://127.0.0.1:50000?pkt_size=1200&rtcpport=50000&connect=1',
    ]);
  });

  test('every flag and every value is its own element', () => {
    for (const arg of syntheticSourceArgs({ color: 'SteelBlue', toneHz: 440, video: ctx.video, audio: ctx.audio })) {
      expect(arg).not.toMatch(/\s/);
    }
  });

  test.each([
    ['an unknown colour', { color: 'reddish' }, /not an FFmpeg colour/],
    ['a colour smuggling a filter option', { color: 'red:s=10x10' }, /not an FFmpeg colour/],
    ['a fractional tone', { toneHz: 440.5 }, /tone/],
    ['an odd width', { video: { ...ctx.video, width: 641 } }, /even/],
    ['an SSRC beyond a signed 32-bit int', { video: { ...ctx.video, ssrc: 0x80000000 } }, /ssrc/],
    ['no output at all', { video: undefined, audio: undefined }, /video or an audio/],
    ['an unknown video codec', { video: { ...ctx.video, codec: 'VP9' as 'VP8' } }, /unknown video codec "VP9"/],
    ['H.264 beyond level 3.1 (1080p)', { video: { ...ctx.h264, width: 1920, height: 1080 } }, /level 3\.1 holds at most 1280x720/],
  ])('rejects %s with a TypeError', (_name, change, message) => {
    const options = { color: 'red', toneHz: 440, video: ctx.video, audio: ctx.audio, ...change };
    expect(() => syntheticSourceArgs(options)).toThrow(TypeError);
    expect(() => syntheticSourceArgs(options)).toThrow(message);
  });
});

describe('syntheticSourceArgs() with a timecode', () => {
  test('draws the wall-clock code with a -vf on the video output, before the encoder', () => {
    const filter = timecodeFilter({ width: 640, height: 360, fps: 30, clock: 'wall' });
    const [map, input, ...encoder] = VP8_OUT_640;
    expect(syntheticSourceArgs({ color: 'red', toneHz: 440, video: ctx.video, audio: ctx.audio, timecode: true })).toEqual([
      ...COMMON,
      '-re', '-f', 'lavfi', '-i', 'color=c=red:s=640x360:r=30',
      '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      map, input, '-vf', filter, ...encoder,
      ...opusOut('1:a:0'),
    ]);
  });

  test('an audio-only bot has nothing to draw on', () => {
    expect(syntheticSourceArgs({ color: 'red', toneHz: 0, audio: ctx.audio, timecode: true })).toEqual([
      ...COMMON, '-re', '-f', 'lavfi', '-i', 'sine=frequency=0:sample_rate=48000', ...opusOut('0:a:0'),
    ]);
  });

  test('a picture too small for the code is a TypeError', () => {
    expect(() => syntheticSourceArgs({ color: 'red', toneHz: 0, video: { ...ctx.video, width: 120, height: 90 }, timecode: true })).toThrow(TypeError);
  });
});

describe('syntheticSourceArgs() with H.264', () => {
  test('encodes the colour with libx264, Baseline level 3.1, and sends it with payload type 102', () => {
    expectColourAndTone('blue', ctx.h264, H264_OUT_640);
  });

  test('the rate cap, its buffer and the keyframe interval follow --bitrate and --fps', () => {
    expect(syntheticSourceArgs({ color: 'green', toneHz: 0, video: { ...ctx.h264, width: 1280, height: 720, fps: 15, bitrateKbps: 1500 } })).toEqual([
      ...COMMON, '-re', '-f', 'lavfi', '-i', 'color=c=green:s=1280x720:r=15',
      '-map', '0:v:0', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-level:v', '3.1',
      '-pix_fmt', 'yuv420p', '-b:v', '1500k', '-maxrate', '1500k', '-bufsize', '1500k', '-g', '15', '-keyint_min', '15', '-threads', '1',
      '-payload_type', '102', '-ssrc', '4321', '-f', 'rtp', 'rtp://127.0.0.1:50004?pkt_size=1200&rtcpport=50004&connect=1',
    ]);
  });

  test('every flag and every value is its own element', () => {
    for (const arg of syntheticSourceArgs({ color: 'red', toneHz: 440, video: ctx.h264, audio: ctx.audio })) {
      expect(arg).not.toMatch(/\s/);
    }
  });
});

describe('h264LevelProblem()', () => {
  test.each([
    ['640x360 at 30 fps', { width: 640, height: 360, fps: 30, bitrateKbps: 800 }],
    ['1280x720 at 30 fps, 14 Mbit/s', { width: 1280, height: 720, fps: 30, bitrateKbps: 14000 }],
    ['640x360 at 60 fps', { width: 640, height: 360, fps: 60, bitrateKbps: 800 }],
    ['2704x16, the widest picture', { width: 2704, height: 16, fps: 30, bitrateKbps: 800 }],
  ])('%s fits level 3.1', (_name, video) => {
    expect(h264LevelProblem(video)).toBeUndefined();
  });

  test.each([
    ['1920x1080', { width: 1920, height: 1080, fps: 30, bitrateKbps: 800 }, /at most 1280x720/],
    ['2720x16, too wide', { width: 2720, height: 16, fps: 30, bitrateKbps: 800 }, /2704 pixels a side/],
    ['1280x720 at 60 fps', { width: 1280, height: 720, fps: 60, bitrateKbps: 800 }, /108000 macroblocks per second/],
    ['14001 kbit/s', { width: 640, height: 360, fps: 30, bitrateKbps: 14001 }, /at most 14000 kbit\/s/],
  ])('%s does not', (_name, video, message) => {
    expect(h264LevelProblem(video)).toMatch(message);
  });
});

describe('fileSourceArgs()', () => {
  const fit = 'scale=640:360:force_original_aspect_ratio=decrease:force_divisible_by=2,pad=640:360:(ow-iw)/2:(oh-ih)/2:color=black,fps=30,format=yuv420p';

  test('reads the file at real time, looping, letterboxed to the requested size', () => {
    expect(fileSourceArgs({ path: '/media/talk.mp4', loop: true, video: ctx.video, audio: ctx.audio })).toEqual([
      ...COMMON, '-re', '-stream_loop', '-1', '-i', 'file:/media/talk.mp4',
      '-vf', fit, ...VP8_OUT_640,
      ...opusOut('0:a:0'),
    ]);
  });

  test('with H.264, the letterboxed picture goes to libx264', () => {
    expect(fileSourceArgs({ path: '/media/talk.mp4', loop: false, video: { ...ctx.h264, port: 50000, ssrc: 1234 } })).toEqual([
      ...COMMON, '-re', '-i', 'file:/media/talk.mp4',
      '-vf', fit,
      '-map', '0:v:0', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-level:v', '3.1',
      '-pix_fmt', 'yuv420p', '-b:v', '800k', '-maxrate', '800k', '-bufsize', '800k', '-g', '30', '-keyint_min', '30', '-threads', '1',
      '-payload_type', '102', '-ssrc', '1234', '-f', 'rtp', 'rtp://127.0.0.1:50000?pkt_size=1200&rtcpport=50000&connect=1',
    ]);
  });

  test('without loop, and for a file with audio only', () => {
    expect(fileSourceArgs({ path: 'concat:a|b.mp3', loop: false, audio: ctx.audio })).toEqual([
      ...COMMON, '-re', '-i', 'file:concat:a|b.mp3', ...opusOut('0:a:0'),
    ]);
  });

  test('rejects an empty path', () => {
    expect(() => fileSourceArgs({ path: '', loop: false, audio: ctx.audio })).toThrow(TypeError);
  });
});

test('probeStreamsArgs() lists stream types one per line', () => {
  expect(probeStreamsArgs('/media/a.webm')).toEqual(['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', 'file:/media/a.webm']);
});

describe('receiverArgs()', () => {
  test('stream-copies the RTP of an SDP file into flushed Matroska clusters', () => {
    expect(receiverArgs({ sdpPath: '/tmp/bot/received.sdp', outputPath: '/rec/out.mkv' })).toEqual([
      ...COMMON,
      '-protocol_whitelist', 'file,udp,rtp', '-probesize', '5000000', '-analyzeduration', '5000000',
      '-i', '/tmp/bot/received.sdp',
      '-map', '0', '-c', 'copy', '-f', 'matroska', '-flush_packets', '1', '-cluster_time_limit', '500',
      '-y', '/rec/out.mkv',
    ]);
  });

  test('writes WebM for a .webm path', () => {
    const args = receiverArgs({ sdpPath: 's.sdp', outputPath: 'OUT.WEBM' });
    expect(args.slice(args.indexOf('-f'), args.indexOf('-f') + 2)).toEqual(['-f', 'webm']);
  });

  test('refuses a container that a kill would leave unplayable', () => {
    expect(() => receiverArgs({ sdpPath: 's.sdp', outputPath: 'out.mp4' })).toThrow(TypeError);
  });
});

test.each([
  ['a.mkv', 'matroska'],
  ['a.MKV', 'matroska'],
  ['dir.webm/a.webm', 'webm'],
] as const)('recordingFormat(%s) is %s', (path, format) => {
  expect(recordingFormat(path)).toBe(format);
});

describe('checkRecordingCodec()', () => {
  test.each([
    ['a.mkv', 'VP8'],
    ['a.webm', 'VP8'],
    ['a.MKV', 'H264'],
  ] as const)('accepts %s for %s', (path, codec) => {
    expect(() => checkRecordingCodec(path, codec)).not.toThrow();
  });

  test('refuses WebM for an H.264 composite', () => {
    expect(() => checkRecordingCodec('/rec/a.WebM', 'H264')).toThrow(TypeError);
    expect(() => checkRecordingCodec('/rec/a.WebM', 'H264')).toThrow(/WebM cannot hold H\.264 video: record an H\.264 composite to a \.mkv file/);
  });

  test('still refuses an unknown container', () => {
    expect(() => checkRecordingCodec('a.mp4', 'VP8')).toThrow(/\.mkv or \.webm/);
  });
});

eachReturns('isFfmpegColor(%j) is %s', isFfmpegColor, [
  ['red', true],
  ['SteelBlue', true],
  ['0x00ff00', true],
  ['#A0B0C0', true],
  ['0x00ff0', false],
  ['blurple', false],
  ['red@0.5', false],
  ['', false],
]);
