import type { RtpPacket } from 'werift';
import { createLogger } from '../../base/log/logger.ts';
import { cpuShare, sampleProcesses, type TreeSample } from '../../base/process/procStats.ts';
import type { ReceiveCounts } from '../bot/ReceiveCounter.ts';
import { OPUS_FRAME_MS, type Clip, type ClipSpec } from './clip.ts';
import { prepareClips } from './clipCache.ts';
import { raiseClientPriority } from './clientPriority.ts';
import { ClipCursor } from './ClipCursor.ts';
import { LatencyReader } from './LatencyReader.ts';
import { LoadClient, type SentCounts } from './LoadClient.ts';
import type { LoadTestOptions, LoadTestSummary, ReceiverFigures } from './LoadTestTypes.ts';
import { distribution, median, round } from './numbers.ts';
import { ffmpegColor, PALETTE, publisherTone } from './palette.ts';
import { receiverFigures, statusLine, windowFigures, type ReceiverWindow, type StatusFigures } from './summary.ts';

const log = createLogger('LoadTest');

/** FFmpeg's sine source peaks at 1/8 of full scale: -21 dBov RMS, stamped as its level (RFC 6464). */
const TONE_LEVEL_DBOV = 21;
const SILENCE_LEVEL_DBOV = 127;
/** A publisher's first frame goes out this long after it connected (its clip's epoch). */
const FIRST_FRAME_DELAY_MS = 5;
/** The pacer wakes at least this often. */
const MAX_PACER_SLEEP_MS = 20;
/** How often the status figures (and the window's per-second frame counts) are taken. */
const STATUS_MS = 1000;
/**
 * After the warm-up the window waits, at most this long, until the sampled composites show every
 * connected publisher: a server starts a publisher's decoders as it joins, which took 1-5 s on a
 * busy two-core machine, and a window of empty tiles measures nothing.
 */
const TILES_WAIT_MS = 30_000;
/** How often that wait looks. */
const TILES_POLL_MS = 200;

/** What each publisher sends: its colour and tone by its number (plus the colour offset), the options' picture. */
export function publisherClips(o: Pick<LoadTestOptions, 'publishers' | 'colourOffset' | 'speakers' | 'codec' | 'video' | 'clipSeconds'>): ClipSpec[] {
  return Array.from({ length: o.publishers }, (_, i) => ({
    codec: o.codec,
    ...o.video,
    seconds: o.clipSeconds,
    color: ffmpegColor(o.colourOffset + i),
    toneHz: i < o.speakers ? publisherTone(o.colourOffset + i) : 0,
  }));
}

interface Member {
  client: LoadClient;
  role: 'publisher' | 'viewer';
  index: number;
  clip?: Clip;
  cursor?: ClipCursor;
  reader?: LatencyReader;
  levelDbov: number;
  windowStart?: { received: ReceiveCounts; sent: SentCounts };
  lastFrames: number;
  lastBytes: number;
}

const snapshot = (c: LoadClient): { received: ReceiveCounts; sent: SentCounts } => ({ received: { ...c.received.counts }, sent: { ...c.sent } });

/**
 * `mcu loadtest`: N publishers and M viewers in one process, over the real protocol and real
 * werift peers, publishing pre-encoded clips (clip.ts) paced by one clock, receiving like any
 * client, with the composite of a sample of receivers decoded to read glass-to-glass latency.
 */
/** What a program (a test) may watch beyond the summary. */
export interface LoadTestHooks {
  /** Every mix packet a client receives. */
  onAudio?: (client: string, rtp: RtpPacket, arrival: number) => void;
}

export class LoadTest {
  readonly options: Readonly<LoadTestOptions>;
  readonly #hooks: LoadTestHooks;
  readonly #members: Member[] = [];
  readonly #failed: { name: string; reason: string }[] = [];
  #pacer: NodeJS.Timeout | undefined;
  #statusTimer: NodeJS.Timeout | undefined;
  #lateness: number[] = [];
  #latency: number[] = [];
  #recentLatency: number[] = [];
  #stopRequested: (() => void) | undefined;
  #stopped = false;
  #phase = 'preparing';
  #startedAt = performance.now();
  #status: StatusFigures | undefined;
  #cpuMark: TreeSample | undefined;
  #inWindow = false;
  #lastStatusAt: number | undefined;

  constructor(options: LoadTestOptions, hooks: LoadTestHooks = {}) {
    this.#hooks = hooks;
    if (options.colourOffset + options.publishers > PALETTE.length) throw new RangeError(`at most ${PALETTE.length} colours: publishers + colour offset`);
    this.options = Object.freeze({ ...options });
  }

  /** The last status figures (once a second), for a live status line. */
  get status(): StatusFigures | undefined {
    return this.#status;
  }

  statusLine(): string | undefined {
    return this.#status ? statusLine(this.#status) : undefined;
  }

  /** Ends the run early (Ctrl-C): the window closes now and run() resolves with the summary. */
  stop(): void {
    this.#stopped = true;
    this.#stopRequested?.();
    // A client still joining gives up now rather than at its timeout.
    for (const m of this.#members) if (m.client.state === 'connecting') void m.client.close();
  }

  async run(onProgress: (message: string) => void = () => {}): Promise<LoadTestSummary> {
    const o = this.options;
    const startedAt = new Date();
    this.#startedAt = performance.now();
    this.#statusTimer = setInterval(() => this.#takeStatus(), STATUS_MS);
    let stoppedBy: LoadTestSummary['stoppedBy'] = 'duration';
    let error: string | undefined;
    let clips: LoadTestSummary['clips'] = { made: 0, cached: 0, seconds: 0, meanKbps: 0 };
    let window: { seconds: number; receivers: ReceiverFigures[]; cpu: LoadTestSummary['cpu'] } | undefined;
    try {
      const t0 = performance.now();
      const specs = publisherClips(o);
      onProgress(`preparing ${specs.length} clips (cache ${o.cacheDir})`);
      const sources = await prepareClips(specs, o.cacheDir);
      const bytes = sources.reduce((sum, s) => sum + s.clip.video.reduce((b, f) => b + f.bytes, 0), 0);
      clips = {
        made: sources.filter((s) => s.made).length,
        cached: sources.filter((s) => !s.made).length,
        seconds: round((performance.now() - t0) / 1000, 1),
        meanKbps: sources.length ? round((bytes * 8) / 1000 / o.clipSeconds / sources.length, 1) : 0,
      };
      onProgress(`clips ready in ${clips.seconds} s (${clips.made} made, ${clips.cached} from the cache, video ${clips.meanKbps} kbit/s each)`);
      if (this.#stopped) throw new StopRequested();
      raiseClientPriority(o.priorityBoost, onProgress);
      this.#phase = 'joining';
      this.#pace();
      await this.#joinAll(sources.map((s) => s.clip));
      const connected = this.#members.filter((m) => m.client.state === 'connected').length;
      onProgress(`${connected} of ${o.publishers + o.viewers} connected${this.#failed.length ? `; failed: ${this.#failed.map((f) => `${f.name} (${f.reason})`).join(', ')}` : ''}`);
      if (this.#stopped) throw new StopRequested();
      if (connected === 0) throw new Error('no client connected');
      this.#phase = 'warming up';
      await this.#sleep(o.warmupSeconds * 1000);
      const missing = await this.#untilEveryTileShown();
      if (missing.length) onProgress(`window opens without the tiles of ${missing.join(', ')} (not shown after ${TILES_WAIT_MS / 1000} s)`);
      if (this.#stopped) throw new StopRequested();
      this.#phase = 'measuring';
      onProgress('window open');
      window = await this.#measure();
      onProgress(`window closed after ${round(window.seconds, 2)} s`);
    } catch (e) {
      if (e instanceof StopRequested) stoppedBy = 'signal';
      else {
        stoppedBy = 'error';
        error = e instanceof Error ? e.message : String(e);
        log.debug({ err: e }, 'load test failed');
      }
    } finally {
      if (this.#stopped && stoppedBy === 'duration') stoppedBy = 'signal';
      this.#phase = 'leaving';
      clearTimeout(this.#pacer);
      clearInterval(this.#statusTimer);
      await Promise.all(this.#members.flatMap((m) => [m.client.close(), m.reader?.close()]));
    }
    return this.#summary(startedAt, clips, window, stoppedBy, error);
  }

  /** Waits until every latency reader has seen every connected publisher's tile; returns who is still missing. */
  async #untilEveryTileShown(): Promise<string[]> {
    const readers = this.#members.flatMap((m) => (m.reader && m.client.state === 'connected' ? [m.reader] : []));
    const publishers = this.#members.filter((m) => m.role === 'publisher' && m.client.state === 'connected');
    const missing = (): string[] =>
      readers.length === 0 ? [] : publishers.filter((p) => readers.some((r) => !r.firstSeen.has(this.options.colourOffset + p.index))).map((p) => p.client.name);
    const deadline = performance.now() + TILES_WAIT_MS;
    while (missing().length && !this.#stopped && performance.now() < deadline) await this.#sleep(TILES_POLL_MS);
    return missing();
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#stopRequested = (): void => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async #joinAll(clips: Clip[]): Promise<void> {
    const o = this.options;
    const queue: { role: 'publisher' | 'viewer'; index: number }[] = [
      ...Array.from({ length: o.publishers }, (_, index) => ({ role: 'publisher' as const, index })),
      ...Array.from({ length: o.viewers }, (_, index) => ({ role: 'viewer' as const, index })),
    ];
    // Viewers are read first: what they get is what every receiver gets, and they send nothing.
    const sampled = new Set([...queue.filter((q) => q.role === 'viewer'), ...queue.filter((q) => q.role === 'publisher')].slice(0, o.latencySample));
    const worker = async (): Promise<void> => {
      for (let next = queue.shift(); next && !this.#stopped; next = queue.shift()) {
        await this.#join(next.role, next.index, next.role === 'publisher' ? clips[next.index] : undefined, sampled.has(next));
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, worker));
  }

  async #join(role: 'publisher' | 'viewer', index: number, clip: Clip | undefined, sampled: boolean): Promise<void> {
    const o = this.options;
    const name = `${o.namePrefix}-${role === 'publisher' ? 'p' : 'v'}${index}`;
    let reader: LatencyReader | undefined;
    const client = new LoadClient({
      url: o.url,
      room: o.room,
      name,
      ...(o.token ? { token: o.token } : {}),
      codec: o.codec,
      publish: role === 'publisher',
      connectTimeoutMs: o.connectTimeoutMs,
      onVideo: (rtp, arrival) => reader?.push(rtp, arrival),
      ...(this.#hooks.onAudio ? { onAudio: (rtp: RtpPacket, arrival: number) => this.#hooks.onAudio?.(name, rtp, arrival) } : {}),
    });
    const member: Member = { client, role, index, levelDbov: clip?.spec.toneHz ? TONE_LEVEL_DBOV : SILENCE_LEVEL_DBOV, lastFrames: 0, lastBytes: 0 };
    if (clip) member.clip = clip;
    this.#members.push(member);
    try {
      await member.client.start();
    } catch (e) {
      this.#failed.push({ name, reason: e instanceof Error ? e.message : String(e) });
      return;
    }
    if (clip) {
      member.cursor = new ClipCursor(
        { durationMs: clip.durationMs, videoPtsMs: clip.video.map((f) => f.ptsMs), audioFrames: clip.audio.length, audioFrameMs: OPUS_FRAME_MS },
        performance.now() + FIRST_FRAME_DELAY_MS,
      );
    }
    if (sampled) member.reader = reader = this.#startReader(name);
  }

  #startReader(name: string): LatencyReader {
    const o = this.options;
    const reader = new LatencyReader({
      name,
      codec: o.codec === 'h264' ? 'H264' : 'VP8',
      canvas: o.canvas,
      source: o.video,
      maxTiles: o.publishers,
      readEvery: o.readEvery,
      expectedTiles: () => this.#members.filter((m) => m.role === 'publisher' && m.client.state === 'connected').length,
      capturedAt: (colour, code, arrival) => this.#publisher(colour)?.cursor?.capturedAt(code, arrival),
    });
    return reader;
  }

  /** The publisher that draws palette colour `colour`. */
  #publisher(colour: number): Member | undefined {
    return this.#members.find((m) => m.role === 'publisher' && m.index === colour - this.options.colourOffset);
  }

  /** Publishers that joined after a latency reader had its first frame: from their `joined` to their tile there. */
  #joinToTile(): number[] {
    const out: number[] = [];
    for (const reader of this.#members.filter((m) => m.reader)) {
      const since = reader.client.firstFrameAt;
      for (const [colour, seenAt] of reader.reader!.firstSeen) {
        const joinedAt = this.#publisher(colour)?.client.joinedAt;
        if (since !== undefined && joinedAt !== undefined && joinedAt > since) out.push(seenAt - joinedAt);
      }
    }
    return out;
  }

  /** The shared clock: sends whatever each publisher has due, then sleeps until the next item. */
  #pace(): void {
    const now = performance.now();
    let next = now + MAX_PACER_SLEEP_MS;
    for (const m of this.#members) {
      const { cursor, clip, client } = m;
      if (!cursor || !clip || client.state !== 'connected') continue;
      for (const item of cursor.due(now)) {
        if (this.#inWindow) this.#lateness.push(now - item.dueAt);
        if (item.kind === 'video') {
          const frame = clip.video[item.index]!;
          const pictureId = clip.spec.codec === 'vp8' ? item.loop * clip.video.length + item.index : undefined;
          client.sendVideo(frame.payloads, item.rtpTicks, pictureId);
        } else {
          client.sendAudio(clip.audio[item.index]!, item.rtpTicks, m.levelDbov);
        }
      }
      next = Math.min(next, cursor.nextDueAt());
    }
    this.#pacer = setTimeout(() => this.#pace(), Math.max(1, next - performance.now()));
  }

  /** The measuring window: counters at both ends, frames per second within it, CPU over it. */
  async #measure(): Promise<{ seconds: number; receivers: ReceiverFigures[]; cpu: LoadTestSummary['cpu'] }> {
    const live = this.#members.filter((m) => m.client.state === 'connected');
    const t0 = performance.now();
    for (const m of live) {
      m.windowStart = snapshot(m.client);
      m.client.markWindow(t0);
      m.reader?.takeSamples();
    }
    this.#lateness = [];
    this.#latency = [];
    this.#inWindow = true;
    const cpu0 = this.#sampleCpu();
    await this.#sleep(this.options.durationSeconds > 0 ? this.options.durationSeconds * 1000 : 2 ** 31 - 1);
    const t1 = performance.now();
    const cpu1 = this.#sampleCpu();
    this.#collectLatency();
    this.#inWindow = false;
    const seconds = (t1 - t0) / 1000;
    const readers = new Set(live.flatMap((m) => (m.reader?.pid !== undefined ? [m.reader.pid] : [])));
    let readersCores = 0;
    for (const [pid, cpu] of cpu1.cpuSeconds) if (readers.has(pid)) readersCores += (cpu - (cpu0.cpuSeconds.get(pid) ?? 0)) / seconds;
    const cores = cpuShare(cpu0, cpu1);
    const receivers = live.map((m) => {
      // A receiver whose frames stopped before the end: the gap runs to the end of the window.
      const tail = m.client.received.lastFrameAt === undefined ? t1 - t0 : t1 - Math.max(t0, m.client.received.lastFrameAt);
      const w: ReceiverWindow = {
        name: m.client.name,
        role: m.role,
        alive: m.client.state === 'connected',
        start: m.windowStart!,
        end: snapshot(m.client),
        seconds,
        secondFrames: m.client.framesPerSecond(t1),
        longestGapMs: Math.max(m.client.gaps.window, tail),
      };
      return receiverFigures(w);
    });
    return { seconds, receivers, cpu: { cores: round(cores, 3), processCores: round(cores - readersCores, 3), readersCores: round(readersCores, 3) } };
  }

  /** This process and its latency readers' decoders: the load generator's whole CPU. */
  #sampleCpu(): TreeSample {
    return sampleProcesses([process.pid, ...this.#members.flatMap((m) => (m.reader?.pid !== undefined ? [m.reader.pid] : []))]);
  }

  /** Latency samples since the last call: the status line's, and the window's while it is open. */
  #collectLatency(): void {
    for (const m of this.#members) {
      const samples = m.reader?.takeSamples() ?? [];
      if (this.#inWindow) this.#latency.push(...samples);
      this.#recentLatency.push(...samples);
    }
  }

  #takeStatus(): void {
    const now = performance.now();
    const elapsed = this.#lastStatusAt === undefined ? 0 : (now - this.#lastStatusAt) / 1000;
    this.#lastStatusAt = now;
    const o = this.options;
    const connected = (role: string): number => this.#members.filter((m) => m.role === role && m.client.state === 'connected').length;
    const live = this.#members.filter((m) => m.client.state === 'connected');
    const fps: number[] = [];
    let down = 0;
    let gap = 0;
    for (const m of live) {
      const c = m.client.received.counts;
      const frames = c.videoFrames - m.lastFrames;
      const bytes = c.videoBytes + c.audioBytes;
      if (elapsed > 0) fps.push(Math.round(frames / elapsed));
      if (elapsed > 0) down += ((bytes - m.lastBytes) * 8) / 1000 / elapsed;
      m.lastFrames = c.videoFrames;
      m.lastBytes = bytes;
      gap = Math.max(gap, m.client.gaps.recent);
      m.client.gaps.recent = 0;
    }
    this.#recentLatency = [];
    this.#collectLatency();
    const late = this.#lateness.length ? Math.max(...this.#lateness.slice(-2000)) : null;
    let cpu: number | null = null;
    const sample = this.#sampleCpu();
    if (this.#cpuMark) cpu = round(cpuShare(this.#cpuMark, sample), 2);
    this.#cpuMark = sample;
    this.#status = {
      phase: this.#phase,
      publishers: { connected: connected('publisher'), requested: o.publishers },
      viewers: { connected: connected('viewer'), requested: o.viewers },
      fps,
      gapMs: gap,
      downKbps: live.length ? round(down / live.length, 0) : null,
      latencyP50Ms: median(this.#recentLatency),
      cpuCores: cpu,
      lateMaxMs: late === null ? null : round(late, 1),
      elapsedSeconds: (now - this.#startedAt) / 1000,
    };
  }

  #summary(
    startedAt: Date,
    clips: LoadTestSummary['clips'],
    window: { seconds: number; receivers: ReceiverFigures[]; cpu: LoadTestSummary['cpu'] } | undefined,
    stoppedBy: LoadTestSummary['stoppedBy'],
    error: string | undefined,
  ): LoadTestSummary {
    const o = this.options;
    const connected = (role: string): Member[] => this.#members.filter((m) => m.role === role && m.client.connectedAt !== undefined);
    // Alive: still connected when the window closed (without a window: never lost).
    const alive = (role: string): number =>
      window ? window.receivers.filter((r) => r.role === role && r.alive).length : connected(role).filter((m) => m.client.lostReason === undefined).length;
    const readers = this.#members.flatMap((m) => (m.reader ? [m.reader] : []));
    const latency = distribution(this.#latency, 0);
    const { token: _token, ...shown } = o;
    return {
      startedAt: startedAt.toISOString(),
      options: shown,
      clips,
      participants: {
        publishers: { requested: o.publishers, connected: connected('publisher').length, alive: alive('publisher') },
        viewers: { requested: o.viewers, connected: connected('viewer').length, alive: alive('viewer') },
        failed: this.#failed,
        lost: this.#members.filter((m) => m.client.lostReason !== undefined).map((m) => ({ name: m.client.name, reason: m.client.lostReason! })),
      },
      connectMs: distribution(this.#members.flatMap((m) => (m.client.connectedAt !== undefined && m.client.startedAt !== undefined ? [m.client.connectedAt - m.client.startedAt] : [])), 0),
      joinToTileMs: distribution(this.#joinToTile(), 0),
      firstFrameMs: distribution(this.#members.flatMap((m) => (m.client.firstFrameAt !== undefined && m.client.joinedAt !== undefined ? [m.client.firstFrameAt - m.client.joinedAt] : [])), 0),
      window: window ? windowFigures(window.receivers, window.seconds) : null,
      latency: readers.length
        ? {
            ...latency,
            readers: readers.length,
            tilesRead: readers.reduce((s, r) => s + r.stats.tilesRead, 0),
            tilesUnread: readers.reduce((s, r) => s + r.stats.tilesUnread, 0),
            tilesForeign: readers.reduce((s, r) => s + r.stats.tilesForeign, 0),
            framesSkipped: readers.reduce((s, r) => s + r.stats.framesSkipped, 0),
          }
        : null,
      pacingLateMs: distribution(this.#lateness, 1),
      cpu: window?.cpu ?? { cores: null, processCores: null, readersCores: null },
      receivers: window?.receivers ?? [],
      stoppedBy,
      ...(error ? { error } : {}),
    };
  }
}

class StopRequested extends Error {
  override readonly name = 'StopRequested';
}
