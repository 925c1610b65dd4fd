import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { audioEncoderArgs, compositorArgs } from '../../mixer/ffmpeg/ffmpegArgs.ts';
import { DEFAULT_LADDER } from '../../mixer/logic/ladder.ts';
import { gridLayout } from '../../mixer/logic/layout.ts';
import { payloadOffset, readTimestamp } from '../../src/rtp/rtpHeader.ts';
import { isVp8KeyframeStart } from '../../src/rtp/vp8.ts';

// The real FFmpeg, fed raw frames and PCM: what matters is what its encoders really send (an
// option one muxer also has once kept the mix's encoder from opening its output at all).

const SOURCE = { width: 320, height: 180 };
const FRAMES = 75;
const KEYFRAME_INTERVAL = 30;

const sockets: Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

async function receiver(): Promise<{ port: number; packets: Buffer[] }> {
  // FFmpeg sends as fast as it encodes: room for all of it, however late this process reads.
  const socket = createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
  sockets.push(socket);
  const packets: Buffer[] = [];
  socket.on('message', (packet) => packets.push(packet));
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { port: socket.address().port, packets };
}

/** Frames in arrival order: whether each is a keyframe, and a keyframe's size (RFC 6386 §9.1). */
function frames(packets: Buffer[]): { key: boolean; width?: number; height?: number }[] {
  const out: { key: boolean; width?: number; height?: number }[] = [];
  let timestamp: number | undefined;
  for (const packet of packets) {
    if (readTimestamp(packet) === timestamp) continue;
    timestamp = readTimestamp(packet);
    if (!isVp8KeyframeStart(packet)) {
      out.push({ key: false });
      continue;
    }
    // Payload descriptor of FFmpeg's packetizer: X, then I with a 15-bit PictureID (4 bytes).
    const header = payloadOffset(packet) + 4;
    expect(packet.subarray(header + 3, header + 6)).toEqual(Buffer.from([0x9d, 0x01, 0x2a]));
    out.push({ key: true, width: packet.readUInt16LE(header + 6) & 0x3fff, height: packet.readUInt16LE(header + 8) & 0x3fff });
  }
  return out;
}

describe('the ladder: one compose, every rung encoded from it', () => {
  it('sends each rung at its size, with keyframes on the same frames in every rung', { timeout: 60_000 }, async () => {
    const [top, ...rest] = await Promise.all(DEFAULT_LADDER.map(() => receiver()));
    const canvas = DEFAULT_LADDER[0]!;
    const args = compositorArgs({
      inputs: 1,
      source: SOURCE,
      canvas,
      tiles: gridLayout(1, canvas),
      fps: 30,
      bitrateKbps: canvas.kbps,
      keyframeInterval: KEYFRAME_INTERVAL,
      output: { port: top!.port, payloadType: 96, ssrc: 1 },
      rungOutputs: DEFAULT_LADDER.slice(1).map((rung, i) => ({ size: rung, kbps: rung.kbps, output: { port: rest[i]!.port, payloadType: 96, ssrc: i + 2 } })),
    });
    const ffmpeg = spawn('ffmpeg', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    ffmpeg.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const frameBytes = (SOURCE.width * SOURCE.height * 3) / 2;
    for (let i = 0; i < FRAMES; i++) {
      // A picture that changes every frame, so that no encoder can skip one.
      const frame = Buffer.alloc(frameBytes, 128);
      frame.fill((i * 7) % 200, 0, SOURCE.width * SOURCE.height);
      if (!ffmpeg.stdin.write(frame)) await once(ffmpeg.stdin, 'drain');
    }
    ffmpeg.stdin.end();
    const [code] = (await once(ffmpeg, 'exit')) as [number | null];
    expect(code, stderr).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 200));

    const outputs = [top!, ...rest].map((r) => frames(r.packets));
    const keyframesAt = outputs.map((f) => f.flatMap((frame, i) => (frame.key ? [i] : [])));
    for (const [i, output] of outputs.entries()) {
      expect(output.length, `rung ${i}: every frame encoded`).toBe(FRAMES);
      const rung = DEFAULT_LADDER[i]!;
      for (const frame of output.filter((f) => f.key)) expect(frame).toEqual({ key: true, width: rung.width, height: rung.height });
      expect(keyframesAt[i], `rung ${i}'s keyframes`).toEqual(keyframesAt[0]);
    }
    // The warm-up frame, the frame after it, then every interval.
    expect(keyframesAt[0]).toEqual([0, 1, 30, 60]);
  });
});

describe('the mix encoder with in-band FEC', () => {
  it('opens its RTP output and sends a 20 ms Opus packet per frame', { timeout: 30_000 }, async () => {
    const mix = await receiver();
    const ffmpeg = spawn('ffmpeg', audioEncoderArgs({ bitrateKbps: 32, output: { port: mix.port, payloadType: 111, ssrc: 7 } }), {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    ffmpeg.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // One second of a 440 Hz tone, mono s16le at 48 kHz.
    const pcm = Buffer.alloc(48_000 * 2);
    for (let i = 0; i < 48_000; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 48_000)), i * 2);
    ffmpeg.stdin.end(pcm);
    const [code] = (await once(ffmpeg, 'exit')) as [number | null];
    expect(code, stderr).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(mix.packets.length).toBeGreaterThanOrEqual(49);
    const timestamps = mix.packets.map(readTimestamp);
    expect(timestamps[1]! - timestamps[0]!).toBe(960);
  });
});
