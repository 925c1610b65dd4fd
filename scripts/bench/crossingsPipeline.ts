/**
 * One run of `crossings.ts`: N tiles of one live publisher (a timecoded 640x360 VP8 source
 * fanned out by the relay, the server's stand-in) composed either by the MCU as it runs (session
 * process, its spawner, a decoder per participant, compositors) or by one bare FFmpeg doing
 * decode + grid + encode; the composite goes back through the relay to a probe that reads the
 * time drawn in the first tile. CPU per process from /proc, bytes through each pipe from
 * /proc/<pid>/io, and how busy the rest of the machine was.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allocateRtpPort, releaseRtpPort } from '../../base/net/ports.ts';
import { FfmpegProcess } from '../../base/process/FfmpegProcess.ts';
import { TSX_LOADER } from '../../base/process/ChildChannel.ts';
import { VP8_PAYLOAD_TYPE } from '../../base/rtp/payloadTypes.ts';
import { syntheticSourceArgs } from '../../src/bot/botArgs.ts';
import { rtpSdp } from '../../base/rtp/sdp.ts';
import { ChunkReader } from '../../mixer/ffmpeg/ChunkReader.ts';
import { compositorFilter, videoDecoderArgs, VP8_REALTIME } from '../../mixer/ffmpeg/ffmpegArgs.ts';
import { gridLayout, letterbox } from '../../mixer/logic/layout.ts';
import { i420Size, msSince, readTimecode } from '../../mixer/logic/timecode.ts';
import { SessionProcess } from '../../mixer/process/SessionProcess.ts';
import { SESSION_DEFAULTS } from '../../mixer/SessionTypes.ts';
import { errorText } from '../lib/errors.ts';
import { descendants, processDetails, processShares, sampleProcesses, type TreeSample } from '../lib/procStats.ts';
import { exited, sleep } from '../lib/processes.ts';
import { machineCpu, machineCpuShare } from './machine.ts';
import { distribution, round, type Distribution } from './numbers.ts';

const RELAY = fileURLToPath(new URL('./crossingsRelay.ts', import.meta.url));
const S = SESSION_DEFAULTS;
const TILE_BYTES = i420Size(S.tileSource.width, S.tileSource.height);
const PROBE_BYTES = i420Size(S.canvas.width, S.canvas.height);
/** After this long without a new compositor the session's start-up is over. */
const QUIET_AFTER_SWITCH_MS = 2500;
const SETTLE_LIMIT_MS = 25_000;
/** The composite is taken as caught up once its median latency is below this. */
const CAUGHT_UP_MS = 1000;
const PING_EVERY_MS = 20;

export type Mode = 'mcu' | 'bare';

export interface PipelineResult {
  mode: Mode;
  participants: number;
  ok: boolean;
  error?: string;
  /** Cores by role over the window: relay (the server's part), session, spawner, decoders, compositors, bare; source and probe are the harness. */
  cpu: Record<string, number>;
  compositors: number;
  /** Bytes a second each role wrote / read through syscalls (pipes, sockets). */
  io: Record<string, { readMBps: number; writtenMBps: number }>;
  /** Time drawn in the publisher's picture → composite decoded by the probe, ms. */
  latency: Distribution;
  fps: number | null;
  /** One loopback UDP hop of a 1200-byte packet (half a round trip through the relay), ms. */
  udpHop: Distribution;
  machine: { load1: number; busyCores: number; otherCores: number };
}

interface Relay {
  child: ChildProcess;
  ports: { publisher: number; composite: number; echo: number };
}

async function startRelay(compositePort: number): Promise<Relay> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, RELAY, String(compositePort)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ports = await new Promise<Relay['ports']>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { ready: Relay['ports'] }).ready));
    child.once('exit', (code) => reject(new Error(`relay exited (${code})`)));
  });
  return { child, ports };
}

/** Reads the composite's frames and the time drawn in its first tile. */
function startProbe(dir: string, port: number, participants: number, onLatency: (ms: number) => void): Promise<FfmpegProcess> {
  const sdpPath = join(dir, 'probe.sdp');
  const box = letterbox(S.tileSource, gridLayout(participants, S.canvas)[0]!);
  return writeFile(sdpPath, rtpSdp('mcu-bench', [{ kind: 'video', port, payloadType: VP8_PAYLOAD_TYPE, codec: 'VP8' }])).then(() => {
    const args = videoDecoderArgs({ sdpPath, ...S.canvas });
    // Unlike a decoder, nothing restarts the probe: it probes until a keyframe gives the picture's size.
    args.splice(args.indexOf('-i'), 0, '-probesize', '5000000', '-analyzeduration', '3000000');
    const probe = new FfmpegProcess({ name: 'probe', args });
    probe.whenStarted(() => {
      new ChunkReader(probe.stdout, {
        size: PROBE_BYTES,
        allocate: () => Buffer.allocUnsafe(PROBE_BYTES),
        onChunk: (data) => {
          const reading = readTimecode({ format: 'i420', ...S.canvas, data }, box, S.tileSource);
          if (reading) onLatency(msSince(Date.now(), reading.ms));
        },
      });
    });
    return probe;
  });
}

/**
 * Inputs open one after the other, each when the one before has its first packets, and each
 * input's time starts at its own first packet: the grid would hold the first input's frames back
 * for seconds to line them up. Stamped with the time they are decoded and sampled at 30 fps, the
 * latest frame of each goes into the grid, as the session's clock takes them.
 */
function bareFilter(inputs: number): string {
  const stamped = Array.from({ length: inputs }, (_, i) => `[${i}:v]setpts=(RTCTIME-RTCSTART)/(TB*1000000)[s${i}]`);
  const grid = compositorFilter({ inputs, source: S.tileSource, canvas: S.canvas, tiles: gridLayout(inputs, S.canvas) });
  const fromStamped = grid.replace(/\[(\d+):v\]/g, '[s$1]').replace(/\[out\]$/, `,fps=${S.fps}[out]`);
  return `${stamped.join(';')};${fromStamped}`;
}

function bareArgs(sdpPaths: string[], ssrc: number, port: number): string[] {
  const filter = bareFilter(sdpPaths.length);
  const kbps = `${S.videoBitrateKbps}k`;
  const keyframes = String(S.fps * S.keyframeIntervalSeconds);
  const inputs = sdpPaths.flatMap((p) => ['-protocol_whitelist', 'file,udp,rtp', '-probesize', '32', '-analyzeduration', '0', '-threads', '1', '-i', p]);
  return [
    '-hide_banner', '-loglevel', 'error', '-nostats', ...inputs, '-filter_complex', filter, '-map', '[out]',
    '-c:v', 'libvpx', ...VP8_REALTIME, '-b:v', kbps, '-maxrate', kbps, '-bufsize', kbps, '-g', keyframes, '-keyint_min', keyframes,
    '-f', 'rtp', '-payload_type', String(VP8_PAYLOAD_TYPE), '-ssrc', String(ssrc), `rtp://127.0.0.1:${port}?pkt_size=1200`,
  ];
}

/** Half the round trip of a 1200-byte datagram through the relay's echo, until stopped. */
function pingHops(echoPort: number): Promise<Distribution> {
  const socket = createSocket('udp4');
  const sent = new Map<number, number>();
  const hops: number[] = [];
  let seq = 0;
  socket.on('message', (packet) => {
    const at = sent.get(packet.readUInt32BE(0));
    if (at !== undefined) hops.push((performance.now() - at) / 2);
  });
  socket.on('error', () => {});
  const packet = Buffer.alloc(1200);
  const timer = setInterval(() => {
    packet.writeUInt32BE(++seq, 0);
    sent.set(seq, performance.now());
    socket.send(packet, echoPort, '127.0.0.1');
  }, PING_EVERY_MS);
  return new Promise((resolve) => {
    pingStops.push(() => {
      clearInterval(timer);
      socket.close();
      resolve(distribution(hops, 3));
    });
  });
}
const pingStops: (() => void)[] = [];

function ioOf(pid: number): { read: number; written: number } {
  try {
    const text = readFileSync(`/proc/${pid}/io`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}: (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return { read: field('rchar'), written: field('wchar') };
  } catch {
    return { read: 0, written: 0 };
  }
}

/** The role of each process taking part: the MCU's from the session's tree, the harness's given. */
function roles(fixed: Record<number, string>, sessionPid: number | undefined): Map<number, string> {
  const map = new Map(Object.entries(fixed).map(([pid, role]) => [Number(pid), role]));
  if (sessionPid === undefined) return map;
  map.set(sessionPid, 'session');
  for (const pid of descendants(sessionPid)) {
    const args = processDetails(pid)?.args ?? [];
    const ffmpeg = args.some((a) => /ffmpeg/.test(a));
    map.set(pid, !ffmpeg ? 'spawner' : args.includes('libvpx') ? 'compositors' : 'decoders');
  }
  return map;
}

export async function runPipeline(mode: Mode, participants: number, windowMs: number): Promise<PipelineResult> {
  const result: PipelineResult = {
    mode, participants, ok: false, cpu: {}, compositors: 0, io: {}, latency: distribution([]), fps: null, udpHop: distribution([]),
    machine: { load1: round(loadavg()[0]!, 2), busyCores: 0, otherCores: 0 },
  };
  const dir = await mkdtemp(join(tmpdir(), 'mcu-crossings-'));
  const ports = [await allocateRtpPort(), await allocateRtpPort(), await allocateRtpPort(), await allocateRtpPort()];
  const [compositePort, h264Port, mixPort, probePort] = ports as [number, number, number, number];
  const processes: FfmpegProcess[] = [];
  let session: SessionProcess | undefined;
  let relay: Relay | undefined;
  try {
    relay = await startRelay(compositePort);
    let lastSwitch = performance.now();
    const steer = (message: object): boolean => relay!.child.send(message);
    if (mode === 'mcu') {
      session = await SessionProcess.create({ ...S, compositePort, compositeH264Port: h264Port, everyoneMixPort: mixPort });
      session.on('compositestart', ({ vp8 }) => {
        lastSwitch = performance.now();
        steer({ active: vp8 });
        session?.compositeSwitched(vp8);
      });
      const destinations: number[] = [];
      for (let i = 0; i < participants; i++) {
        const added = await session.addParticipant({ id: `p${i}`, name: `p${i}`, video: { codec: 'VP8', payloadType: VP8_PAYLOAD_TYPE } });
        destinations.push(added.videoPort!);
      }
      steer({ destinations });
    } else {
      const destinations: number[] = [];
      for (let i = 0; i < participants; i++) destinations.push(await allocateRtpPort());
      ports.push(...destinations);
      const sdpPaths = await Promise.all(
        destinations.map(async (port, i) => {
          const path = join(dir, `in${i}.sdp`);
          await writeFile(path, rtpSdp('mcu-bench', [{ kind: 'video', port, payloadType: VP8_PAYLOAD_TYPE, codec: 'VP8' }]));
          return path;
        }),
      );
      const ssrc = randomInt(1, 0x7fffffff);
      processes.push(new FfmpegProcess({ name: `bare ${participants}`, args: bareArgs(sdpPaths, ssrc, relay.ports.composite) }));
      steer({ destinations, active: ssrc });
    }
    const video = { port: relay.ports.publisher, payloadType: VP8_PAYLOAD_TYPE, ssrc: randomInt(1, 0x7fffffff), codec: 'VP8' as const, ...S.tileSource, fps: S.fps, bitrateKbps: 800 };
    const source = new FfmpegProcess({ name: 'source', args: syntheticSourceArgs({ color: 'red', toneHz: 0, timecode: true, video }) });
    processes.push(source);
    source.stdout.resume();
    // Settled: the decoders had a keyframe, and the session's compositors have stopped changing.
    const settleStart = performance.now();
    await sleep(4000);
    while (performance.now() - lastSwitch < QUIET_AFTER_SWITCH_MS && performance.now() - settleStart < SETTLE_LIMIT_MS) await sleep(200);
    const latencies: number[] = [];
    const recent: number[] = [];
    let measuring = false;
    steer({ probePort });
    const probe = await startProbe(dir, probePort, participants, (ms) => {
      recent.push(ms);
      if (recent.length > 30) recent.shift();
      if (measuring) latencies.push(ms);
    });
    processes.push(probe);
    // The probe waits for the composite's next keyframe (every 2 s); a pipeline that fell behind
    // at its start on a busy machine (FFmpeg opening its inputs one by one) catches up first.
    await sleep(S.keyframeIntervalSeconds * 1000 + 1000);
    const catchUpStart = performance.now();
    while ((recent.length < 30 || (distribution(recent).p50 ?? 0) > CAUGHT_UP_MS) && performance.now() - catchUpStart < SETTLE_LIMIT_MS) await sleep(500);
    const hops = pingHops(relay.ports.echo);

    const fixed: Record<number, string> = { [relay.child.pid!]: 'relay', [source.pid!]: 'source', [probe.pid!]: 'probe' };
    if (mode === 'bare') fixed[processes[0]!.pid!] = 'bare';
    const byPid = roles(fixed, session?.pid);
    const pids = [...byPid.keys()];
    const ioBefore = new Map(pids.map((pid) => [pid, ioOf(pid)]));
    const machineBefore = machineCpu();
    const before: TreeSample = sampleProcesses(pids);
    measuring = true;
    await sleep(windowMs);
    measuring = false;
    pingStops.splice(0).forEach((stop) => stop());
    result.udpHop = await hops;
    const after = sampleProcesses(pids);
    const machineAfter = machineCpu();
    const seconds = (after.at - before.at) / 1000;
    for (const [pid, share] of processShares(before, after)) {
      const role = byPid.get(pid)!;
      result.cpu[role] = round((result.cpu[role] ?? 0) + share, 3);
      if (role === 'compositors') result.compositors++;
      const io = ioOf(pid);
      const was = ioBefore.get(pid)!;
      const sum = result.io[role] ?? { readMBps: 0, writtenMBps: 0 };
      result.io[role] = {
        readMBps: round(sum.readMBps + (io.read - was.read) / seconds / 1e6, 2),
        writtenMBps: round(sum.writtenMBps + (io.written - was.written) / seconds / 1e6, 2),
      };
    }
    const busy = machineCpuShare(machineBefore, machineAfter);
    const ours = Object.values(result.cpu).reduce((a, b) => a + b, 0);
    result.machine.busyCores = round(busy, 2);
    result.machine.otherCores = round(Math.max(0, busy - ours), 2);
    result.latency = distribution(latencies);
    result.fps = round(latencies.length / seconds, 1);
    result.ok = latencies.length > 0;
    if (!result.ok) result.error = 'the probe read no time from the composite';
  } catch (error) {
    result.error = errorText(error);
  } finally {
    await session?.close();
    await Promise.all(processes.map((p) => p.stop()));
    if (relay) {
      relay.child.disconnect();
      await exited(relay.child);
    }
    ports.forEach(releaseRtpPort);
    await rm(dir, { recursive: true, force: true });
  }
  return result;
}

export const FRAME_BYTES = TILE_BYTES;
