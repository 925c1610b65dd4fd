import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decoder } from '../../mixer/ffmpeg/Decoder.ts';
import { FfmpegProcess } from '../../base/process/FfmpegProcess.ts';
import { allocateRtpPort, releaseRtpPort, waitUntilBound } from '../../base/net/ports.ts';
import { readVp8Capture } from '../helpers/rtpCapture.ts';

// A real FFmpeg decoder fed real VP8 RTP (captured from FFmpeg) on loopback UDP.

describe('Decoder', () => {
  let workDir = '';
  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'mcu-decoder-'));
  });
  afterAll(async () => {
    await FfmpegProcess.stopAll();
    await rm(workDir, { recursive: true, force: true });
  });

  it('decodes RTP into tile-source frames, and stops at once when its publisher has gone quiet', async () => {
    const port = await allocateRtpPort();
    const decoder = await Decoder.create({
      label: 'test video',
      port,
      input: { kind: 'video', codec: 'VP8', payloadType: 96 },
      tileSource: { width: 320, height: 180 },
      workDir,
    });
    const socket = createSocket('udp4');
    try {
      const frame = new Promise<Buffer>((resolve) => decoder.once('chunk', resolve));
      expect(await waitUntilBound(port, 10_000)).toBe(true);
      for (const packet of readVp8Capture()) socket.send(packet, port, '127.0.0.1');
      expect((await frame).length).toBe((320 * 180 * 3) / 2);
      // No more packets: FFmpeg waits in its RTP read. `q` on stdin went unread there until the
      // read timed out (10 s), which held up every participant's removal.
      const asked = performance.now();
      await decoder.close();
      expect(performance.now() - asked).toBeLessThan(1000);
    } finally {
      socket.close();
      releaseRtpPort(port);
    }
  }, 30_000);
});
