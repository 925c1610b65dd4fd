import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RtpHeader, RtpPacket } from 'werift';
import { afterAll, describe, expect, test } from 'vitest';
import { FfmpegProcess } from '../../base/process/FfmpegProcess.ts';
import { i420Size, readTimecode, type I420Frame } from '../../mixer/logic/timecode.ts';
import { OPUS_FRAME_MS, type ClipSpec } from '../../src/loadtest/clip.ts';
import { prepareClips, type ClipSource } from '../../src/loadtest/clipCache.ts';
import { ClipCursor } from '../../src/loadtest/ClipCursor.ts';
import { tileColor } from '../../src/loadtest/compositeTiles.ts';
import { LatencyReader } from '../../src/loadtest/LatencyReader.ts';
import { ffmpegColor, nearestPaletteIndex, publisherTone } from '../../src/loadtest/palette.ts';
import { runFfmpeg, tonePower } from '../helpers/media.ts';

/** Small clips: this is about what the media holds, not about load. */
const SIZE = { width: 320, height: 180 };
const FPS = 15;
const spec = (i: number, codec: ClipSpec['codec']): ClipSpec => ({
  codec, ...SIZE, fps: FPS, bitrateKbps: 300, seconds: 2, color: ffmpegColor(i), toneHz: publisherTone(i),
});
const SPECS = [spec(0, 'vp8'), spec(1, 'vp8'), spec(2, 'h264')];

const cache = mkdtempSync(join(tmpdir(), 'mcu-loadtest-clips-'));
afterAll(() => rmSync(cache, { recursive: true, force: true }));

let sources: ClipSource[] | undefined;
async function clips(): Promise<ClipSource[]> {
  sources ??= await prepareClips(SPECS, cache);
  return sources;
}

/** Every frame of a video file as I420 at its own size. */
async function decodeVideo(path: string, format: 'ivf' | 'h264'): Promise<I420Frame[]> {
  const data = await runFfmpeg(['-v', 'error', '-f', format, '-i', path, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1']);
  const size = i420Size(SIZE.width, SIZE.height);
  const frames: I420Frame[] = [];
  for (let offset = 0; offset + size <= data.length; offset += size) frames.push({ format: 'i420', ...SIZE, data: data.subarray(offset, offset + size) });
  return frames;
}

const whole = { x: 0, y: 0, ...SIZE };

describe('the load generator media (real FFmpeg)', () => {
  test('each clip is made once, then taken from the cache', async () => {
    const first = await clips();
    expect(first.map((s) => s.made)).toEqual([true, true, true]);
    const again = await prepareClips(SPECS, cache);
    expect(again.map((s) => s.made)).toEqual([false, false, false]);
    expect(again[0]!.clip.video).toHaveLength(first[0]!.clip.video.length);
  }, 120_000);

  test.each([
    [0, 'ivf'],
    [2, 'h264'],
  ] as const)('clip %i (%s): its colour, and the clip time of each frame drawn in it, frame by frame', async (i, format) => {
    const source = (await clips())[i]!;
    const frames = await decodeVideo(source.files.video, format);
    expect(frames).toHaveLength(2 * FPS);
    for (const [k, frame] of frames.entries()) {
      expect(readTimecode(frame, whole, SIZE)?.ms, `frame ${k}`).toBe(Math.round((k * 1000) / FPS));
    }
    expect(nearestPaletteIndex(tileColor(frames[5]!, whole))).toBe(i);
    // One keyframe a second, as the bot sends; the first frame is one.
    expect(source.clip.video.flatMap((f, k) => (f.keyframe ? [k] : []))).toEqual([0, FPS]);
    expect(source.clip.video.map((f) => f.ptsMs)).toEqual(frames.map((_, k) => (k * 1000) / FPS));
  }, 120_000);

  test('each clip is sent at the bitrate asked for (the texture keeps the encoder from idling)', async () => {
    for (const { clip } of await clips()) {
      const kbps = (clip.video.reduce((sum, f) => sum + f.bytes, 0) * 8) / 1000 / clip.spec.seconds;
      expect(kbps).toBeGreaterThan(0.6 * clip.spec.bitrateKbps);
      expect(kbps).toBeLessThan(1.5 * clip.spec.bitrateKbps);
    }
  }, 120_000);

  test('each clip carries its own tone, 20 ms Opus frames for the whole clip', async () => {
    for (const [i, { clip, files }] of (await clips()).entries()) {
      expect(clip.audio).toHaveLength((clip.spec.seconds * 1000) / OPUS_FRAME_MS);
      const data = await runFfmpeg(['-v', 'error', '-i', files.audio, '-ac', '1', '-ar', '48000', '-f', 's16le', 'pipe:1']);
      const pcm = new Int16Array(data.buffer, data.byteOffset, Math.floor(data.length / 2)).subarray(4800, 48_000);
      const own = tonePower(pcm, publisherTone(i));
      for (const other of [0, 1, 2].filter((j) => j !== i)) expect(own, `clip ${i} vs tone ${other}`).toBeGreaterThan(1000 * tonePower(pcm, publisherTone(other)));
    }
  }, 120_000);

  test.each([
    [0, 'VP8'],
    [2, 'H264'],
  ] as const)('clip %i sent as %s RTP and read back by the latency reader: the latency it reads is the delay it was given', async (i, codec) => {
    const { clip } = (await clips())[i]!;
    const delayMs = 40;
    const cursor = new ClipCursor({ durationMs: clip.durationMs, videoPtsMs: clip.video.map((f) => f.ptsMs), audioFrames: 0, audioFrameMs: OPUS_FRAME_MS }, 100_000);
    const reader = new LatencyReader({
      name: 'test',
      codec,
      canvas: SIZE,
      source: SIZE,
      maxTiles: 1,
      readEvery: 1,
      // Every frame is asserted: the decoder may finish them (it does on its own) long after
      // its input ended on a loaded machine (a fresh-clone run read 22 of 75 within 2 s).
      flushMs: 60_000,
      expectedTiles: () => 1,
      capturedAt: (colour, code, arrival) => (colour === i ? cursor.capturedAt(code, arrival) : undefined),
    });
    try {
      // Two and a half loops of the clip, each frame "arriving" 40 ms after it was due.
      let seq = 65_000;
      const items = cursor.due(100_000 + 2.5 * clip.durationMs);
      for (const item of items) {
        const frame = clip.video[item.index]!;
        frame.payloads.forEach((payload, p) => {
          const data = codec === 'VP8' ? Buffer.from(payload) : payload;
          if (codec === 'VP8') data.writeUInt16BE(0x8000 | ((item.loop * clip.video.length + item.index) & 0x7fff), 2);
          const header = new RtpHeader({ sequenceNumber: seq++ & 0xffff, timestamp: (12345 + item.rtpTicks) >>> 0, marker: p === frame.payloads.length - 1 });
          reader.push(new RtpPacket(header, data), item.dueAt + delayMs);
        });
      }
      // Closing ends the decoder's input: it gives out the frames its threads still hold.
      await reader.close();
      const samples = reader.takeSamples();
      expect(reader.stats).toMatchObject({ framesFed: items.length, framesSkipped: 0, tilesUnread: 0, tilesForeign: 0 });
      // Every frame read (FFmpeg's H.264 parser may keep the very last one: it waits for the next to start).
      expect(samples.length).toBeGreaterThanOrEqual(items.length - (codec === 'H264' ? 1 : 0));
      // Codes are whole ms: within a millisecond of the delay.
      for (const latency of samples) expect(Math.abs(latency - delayMs)).toBeLessThanOrEqual(1);
    } finally {
      await reader.close();
    }
    expect([...FfmpegProcess.liveProcesses()]).toEqual([]);
  }, 120_000);
});


