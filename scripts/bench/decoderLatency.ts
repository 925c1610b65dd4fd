/**
 * How long the server's per-participant video decoder holds a frame: the bot's timecoded source
 * (src/bot/botArgs.ts, `--timecode`) sends RTP straight to an FFmpeg decoder built by
 * `videoDecoderArgs` (mixer/ffmpeg/ffmpegArgs.ts), and every raw frame it writes is read back as it
 * arrives. Extra arguments go before the decoder's `-i`, to compare input options:
 *   node --import tsx scripts/bench/decoderLatency.ts                 # as the server runs it
 *   node --import tsx scripts/bench/decoderLatency.ts -threads 1      # no frame threading
 */
import { randomInt } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rtpSdp } from '../../base/rtp/sdp.ts';
import { syntheticSourceArgs } from '../../src/bot/botArgs.ts';
import { videoDecoderArgs } from '../../mixer/ffmpeg/ffmpegArgs.ts';
import { FfmpegProcess } from '../../base/process/FfmpegProcess.ts';
import { allocateRtpPort, releaseRtpPort } from '../../base/net/ports.ts';
import { i420Size, msSince, readTimecode } from '../../mixer/logic/timecode.ts';
import { sleep } from '../lib/processes.ts';
import { distribution } from './numbers.ts';

process.env.MCU_LOG_LEVEL ??= 'warn';
const SIZE = { width: 640, height: 360 };
const SECONDS = 6;
/** The first second is start-up (waiting for a keyframe): left out. */
const SKIP_FRAMES = 30;

const extra = process.argv.slice(2);
const dir = await mkdtemp(join(tmpdir(), 'mcu-declat-'));
const port = await allocateRtpPort();
let decoder: FfmpegProcess | undefined;
let source: FfmpegProcess | undefined;
try {
  const sdpPath = join(dir, 'video.sdp');
  await writeFile(sdpPath, rtpSdp('mcu-bot', [{ kind: 'video', port, payloadType: 96, codec: 'VP8' }]));
  const args = videoDecoderArgs({ sdpPath, ...SIZE });
  args.splice(args.indexOf('-i'), 0, ...extra);
  decoder = new FfmpegProcess({ name: 'decoder', args });
  const frameSize = i420Size(SIZE.width, SIZE.height);
  let pending = Buffer.alloc(0);
  const latencies: number[] = [];
  decoder.stdout.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= frameSize) {
      const frame = { format: 'i420' as const, ...SIZE, data: pending.subarray(0, frameSize) };
      const reading = readTimecode(frame, { x: 0, y: 0, ...SIZE }, SIZE);
      if (reading) latencies.push(msSince(Date.now(), reading.ms));
      pending = pending.subarray(frameSize);
    }
  });
  await sleep(500);
  source = new FfmpegProcess({
    name: 'source',
    args: syntheticSourceArgs({
      color: 'red',
      toneHz: 0,
      timecode: true,
      video: { port, payloadType: 96, ssrc: randomInt(1, 0x7fffffff), codec: 'VP8', ...SIZE, fps: 30, bitrateKbps: 800 },
    }),
  });
  source.stdout.resume();
  await sleep(SECONDS * 1000);
  console.log(
    `decoder input options: ${extra.join(' ') || '(as the server runs it)'}; drawn → raw frame out, ms:`,
    JSON.stringify(distribution(latencies.slice(SKIP_FRAMES))),
  );
} finally {
  await source?.stop();
  await decoder?.stop();
  releaseRtpPort(port);
  await rm(dir, { recursive: true, force: true });
}
