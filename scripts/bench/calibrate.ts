/**
 * Calibration of the latency measurement on a direct loop, no server: the bot's own FFmpeg
 * source (`--timecode`) sends RTP to this process, which logs each frame's arrival as the bot
 * does (`<wall ms> <rtp ts>`), retimes it by wall clock as the server's stream switcher does
 * (plus a few ms of random spacing, so the recording and the log line up in one way only) and
 * forwards it to the bot's recorder (FFmpeg, stream copy into .mkv). The recording is then read
 * exactly like a composite. What comes out is the source's own encode-and-send time plus any
 * disagreement between FFmpeg's clock and Node's: the floor under every latency figure.
 */
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rtpSdp } from '../../base/rtp/sdp.ts';
import { receiverArgs, syntheticSourceArgs, type VideoOutput } from '../../src/bot/botArgs.ts';
import { FfmpegProcess } from '../../base/process/FfmpegProcess.ts';
import { allocateRtpPort, releaseRtpPort } from '../../base/net/ports.ts';
import { isRtp, readSeq, readTimestamp, writeSeqAndTimestamp } from '../../src/rtp/rtpHeader.ts';
import { errorText } from '../lib/errors.ts';
import { cpuShare, sampleTree } from '../lib/procStats.ts';
import { sleep } from '../lib/processes.ts';
import { round, type Distribution } from './numbers.ts';
import { analyseLatency, decodeRecording, matchFramesToLog, readFrameLogEntries } from './recording.ts';

const PAYLOAD_TYPE = 96;
const SOURCE = { width: 640, height: 360 };

export interface CalibrationResult {
  ok: boolean;
  error?: string;
  seconds: number;
  /** arrival − drawn time of every recorded frame, ms. */
  latency: Distribution | null;
  frames: number;
  matched: number;
  codesRead: number;
  matchErrorMs: number | null;
  matchRunnerUpErrorMs: number | null;
  /** CPU (share of one core) of the bot's source FFmpeg with and without the timecode. */
  sourceCpuWithTimecode: number | null;
  sourceCpuPlain: number | null;
}

function videoOutput(port: number): VideoOutput {
  return { port, payloadType: PAYLOAD_TYPE, ssrc: randomInt(1, 0x7fffffff), codec: 'VP8', ...SOURCE, fps: 30, bitrateKbps: 800 };
}

/** CPU share of one FFmpeg process over `ms`, after it has run for a second. */
async function cpuOf(process: FfmpegProcess, ms: number): Promise<number | null> {
  const pid = process.pid;
  if (pid === undefined) return null;
  const before = sampleTree(pid);
  await sleep(ms);
  const after = sampleTree(pid);
  return after.processes ? round(cpuShare(before, after), 3) : null;
}

export async function calibrate(dir: string, seconds: number): Promise<CalibrationResult> {
  const mkv = join(dir, 'calibration.mkv');
  const logPath = join(dir, 'calibration.frames');
  const sdpPath = join(dir, 'calibration.sdp');
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const recorderPort = await allocateRtpPort();
  const frameLog = createWriteStream(logPath);
  let recorder: FfmpegProcess | undefined;
  let source: FfmpegProcess | undefined;
  let plain: FfmpegProcess | undefined;
  const result: CalibrationResult = {
    ok: false, seconds, latency: null, frames: 0, matched: 0, codesRead: 0,
    matchErrorMs: null, matchRunnerUpErrorMs: null, sourceCpuWithTimecode: null, sourceCpuPlain: null,
  };
  try {
    await writeFile(sdpPath, rtpSdp('mcu-bot', [{ kind: 'video', port: recorderPort, payloadType: PAYLOAD_TYPE, codec: 'VP8' }]));
    recorder = new FfmpegProcess({ name: 'calibration recorder', args: receiverArgs({ sdpPath, outputPath: mkv }) });
    recorder.stdout.resume();
    await sleep(500);

    let lastIn: number | undefined;
    let lastOut = 0;
    let firstOut = 0;
    let startedAt = 0;
    socket.on('message', (packet) => {
      if (!isRtp(packet) || (packet[1]! & 0x7f) !== PAYLOAD_TYPE) return;
      const inTs = readTimestamp(packet);
      if (inTs !== lastIn) {
        const now = performance.now();
        if (lastIn === undefined) {
          startedAt = now;
          firstOut = inTs;
          lastOut = inTs;
        } else {
          lastOut = Math.max(lastOut + 1, firstOut + Math.round((now - startedAt) * 90) + randomInt(0, 450));
        }
        lastIn = inTs;
        frameLog.write(`${Date.now()} ${lastOut >>> 0}\n`);
      }
      writeSeqAndTimestamp(packet, readSeq(packet), lastOut);
      socket.send(packet, recorderPort, '127.0.0.1');
    });
    source = new FfmpegProcess({
      name: 'calibration source',
      args: syntheticSourceArgs({ color: '0xff8000', toneHz: 0, video: videoOutput(socket.address().port), timecode: true }),
    });
    source.stdout.resume();
    await sleep(1000);
    result.sourceCpuWithTimecode = await cpuOf(source, seconds * 1000);
    await recorder.stop();
    await source.stop();

    // The same source without the code, sent to a socket nobody reads: its CPU only.
    const sink = createSocket('udp4');
    await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', () => resolve()));
    sink.on('message', () => {});
    plain = new FfmpegProcess({
      name: 'calibration source without timecode',
      args: syntheticSourceArgs({ color: '0xff8000', toneHz: 0, video: videoOutput(sink.address().port) }),
    });
    plain.stdout.resume();
    await sleep(1000);
    result.sourceCpuPlain = await cpuOf(plain, Math.min(seconds, 5) * 1000);
    await plain.stop();
    sink.close();
    await new Promise<void>((resolve) => frameLog.end(resolve));

    const { frames } = await decodeRecording({ path: mkv, source: SOURCE, maxTiles: 1, timeoutMs: 60_000 });
    const match = matchFramesToLog(frames.map((f) => f.ptsMs), readFrameLogEntries(logPath));
    const latency = analyseLatency(frames, match.arrivals, { from: -Infinity, to: Infinity }, 1);
    Object.assign(result, {
      ok: latency.allFrames.count > 0,
      latency: latency.allFrames,
      frames: frames.length,
      matched: match.matched,
      codesRead: latency.tilesRead,
      matchErrorMs: match.meanErrorMs,
      matchRunnerUpErrorMs: match.runnerUpErrorMs,
    });
    if (!result.ok) result.error = `no readable code in ${frames.length} recorded frames (${match.matched} matched to the log)`;
  } catch (error) {
    result.error = errorText(error);
  } finally {
    await Promise.all([recorder?.stop(), source?.stop(), plain?.stop()]);
    socket.close();
    releaseRtpPort(recorderPort);
    if (!frameLog.closed) frameLog.end();
  }
  return result;
}
