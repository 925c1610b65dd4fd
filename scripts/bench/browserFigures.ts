/**
 * What a person in Chromium got, from what the probe page recorded (browserProbe.page.js): pure
 * arithmetic over its marks, frames, beeps and getStats() samples, for one window of time.
 */
import { letterbox, type Size, layoutTiles, type LayoutKind } from '../../mixer/logic/layout.ts';
import { timecodeGeometry } from '../../mixer/logic/timecode.ts';
import { distribution, round, type Distribution } from './numbers.ts';

/** Where a publisher's timecode strip sits in the composite (1280x720 coordinates). */
export interface ProbeBox {
  x: number;
  y: number;
  width: number;
  /** Height of one block of the strip, in composite pixels. */
  blockHeight: number;
}

export interface InboundSample {
  packetsReceived?: number;
  packetsLost?: number;
  bytesReceived?: number;
  framesDecoded?: number;
  framesDropped?: number;
  freezeCount?: number;
  totalFreezesDuration?: number;
  jitterBufferDelay?: number;
  jitterBufferTargetDelay?: number;
  jitterBufferEmittedCount?: number;
  concealedSamples?: number;
  silentConcealedSamples?: number;
  concealmentEvents?: number;
  insertedSamplesForDeceleration?: number;
  removedSamplesForAcceleration?: number;
  fecPacketsReceived?: number;
  fecPacketsDiscarded?: number;
  totalSamplesReceived?: number;
  /** RFC 3550 interarrival jitter as the receiver computes it, in seconds. */
  jitter?: number;
  /** The height of the last decoded frame (video): the rung of the ladder received. */
  frameHeight?: number;
}

export interface StatsSample {
  at: number;
  connectionState: string;
  in_audio?: InboundSample;
  in_video?: InboundSample;
  rttMs?: number;
  /** `host`, `srflx` or `relay`: the local end of the selected candidate pair. */
  localCandidateType?: string;
}

/** What `mcuProbe.summary()` returns. */
export interface ProbeSummary {
  id: string | null;
  marks: Record<string, number>;
  frames: { at: number; box: number; ms: number; latency: number }[];
  shown: number[];
  beeps: { at: number; latency: number }[];
  stats: StatsSample[];
  errors: string[];
  /** The server's `rung` messages (our addition to the protocol), each with when it came (epoch ms). */
  rungs?: ({ at: number; rung: number; cap: number; estimateKbps: number | null; receivingKbps: number } & Record<string, unknown>)[];
}

export interface BrowserFigures {
  /** Glass-to-glass (drawn into a publisher's picture → shown in this page), every tile read. */
  glassToGlassMs: Distribution | null;
  /** Mix: beep played by a publisher → heard in this page. */
  audioLatencyMs: Distribution | null;
  /** Audio minus video latency (positive: the sound comes late). */
  avOffsetMs: number | null;
  /** Mean jitter buffer delay over the window (Δ jitterBufferDelay / Δ emitted count). */
  audioJitterBufferMs: number | null;
  videoJitterBufferMs: number | null;
  audioJitterTargetMs: number | null;
  videoJitterTargetMs: number | null;
  /** Composite frames shown per second over the window (requestVideoFrameCallback). */
  fps: number | null;
  /** Composite frames decoded per second (getStats), and dropped by the renderer. */
  decodedFps: number | null;
  framesDropped: number | null;
  freezes: number | null;
  freezeSeconds: number | null;
  longestGapMs: number | null;
  /** Socket open → first composite frame shown, and the steps on the way. */
  join: { firstFrameMs: number | null; answerMs: number | null; iceMs: number | null; connectedMs: number | null };
  concealedShare: number | null;
  /** The mix as the browser received it: interarrival jitter (RFC 3550) at the window's end, and packets lost in it. */
  audioJitterMs: number | null;
  audioPacketsLost: number | null;
}

/**
 * Tile boxes of every grid (and other layout) of 1..maxTiles tiles: the page tries them all, and
 * the strip's marker and check bits keep a wrong box from reading a code.
 */
export function probeBoxes(source: Size, canvas: Size, maxTiles: number, kinds: LayoutKind[] = ['grid']): ProbeBox[] {
  const { blockHeight } = timecodeGeometry(source);
  const seen = new Set<string>();
  const boxes: ProbeBox[] = [];
  for (const kind of kinds) {
    for (let count = 1; count <= maxTiles; count++) {
      for (const tile of layoutTiles(kind, count, canvas)) {
        const box = letterbox(source, tile);
        const key = `${box.x},${box.y},${box.width}`;
        if (seen.has(key)) continue;
        seen.add(key);
        boxes.push({ x: box.x, y: box.y, width: box.width, blockHeight: (blockHeight * box.height) / source.height });
      }
    }
  }
  return boxes;
}

const inWindow = (at: number, from: number, to: number): boolean => at >= from && at <= to;

/** The sample nearest each end of the window (the first at or after `from`, the last at or before `to`). */
export function samplesAround(stats: StatsSample[], from: number, to: number): [StatsSample, StatsSample] | undefined {
  const inside = stats.filter((s) => inWindow(s.at, from, to));
  if (inside.length < 2) return undefined;
  return [inside[0]!, inside[inside.length - 1]!];
}

export function delta(a: InboundSample | undefined, b: InboundSample | undefined, key: keyof InboundSample): number | null {
  const x = a?.[key];
  const y = b?.[key];
  return typeof x === 'number' && typeof y === 'number' ? y - x : null;
}

/** Mean jitter buffer delay (ms) between two samples, or null without emitted samples. */
export function jitterBufferMs(a: InboundSample | undefined, b: InboundSample | undefined): number | null {
  const d = delta(a, b, 'jitterBufferDelay');
  const n = delta(a, b, 'jitterBufferEmittedCount');
  return d === null || n === null || n <= 0 ? null : round((d / n) * 1000, 1);
}

export function targetMs(a: InboundSample | undefined, b: InboundSample | undefined): number | null {
  const d = delta(a, b, 'jitterBufferTargetDelay');
  const n = delta(a, b, 'jitterBufferEmittedCount');
  return d === null || n === null || n <= 0 ? null : round((d / n) * 1000, 1);
}

function since(marks: Record<string, number>, start: string, end: string): number | null {
  const a = marks[start];
  const b = marks[end];
  return a === undefined || b === undefined ? null : Math.round(b - a);
}

/** Figures of one probe page over the window [from, to] (epoch ms). */
export function browserFigures(summary: ProbeSummary, from: number, to: number): BrowserFigures {
  const frames = summary.frames.filter((f) => inWindow(f.at, from, to));
  const beeps = summary.beeps.filter((b) => inWindow(b.at, from, to));
  const shown = summary.shown.filter((at) => inWindow(at, from, to));
  const g2g = frames.length ? distribution(frames.map((f) => f.latency)) : null;
  const audio = beeps.length ? distribution(beeps.map((b) => b.latency)) : null;
  const around = samplesAround(summary.stats, from, to);
  const [a, b] = around ?? [undefined, undefined];
  let longestGap: number | null = null;
  for (let i = 1; i < shown.length; i++) longestGap = Math.max(longestGap ?? 0, shown[i]! - shown[i - 1]!);
  const span = shown.length > 1 ? shown[shown.length - 1]! - shown[0]! : 0;
  const concealed = delta(a?.in_audio, b?.in_audio, 'concealedSamples');
  const received = delta(a?.in_audio, b?.in_audio, 'totalSamplesReceived');
  return {
    glassToGlassMs: g2g,
    audioLatencyMs: audio,
    avOffsetMs: g2g?.p50 != null && audio?.p50 != null ? round(audio.p50 - g2g.p50, 0) : null,
    audioJitterBufferMs: jitterBufferMs(a?.in_audio, b?.in_audio),
    videoJitterBufferMs: jitterBufferMs(a?.in_video, b?.in_video),
    audioJitterTargetMs: targetMs(a?.in_audio, b?.in_audio),
    videoJitterTargetMs: targetMs(a?.in_video, b?.in_video),
    fps: span > 0 ? round(((shown.length - 1) * 1000) / span, 1) : null,
    decodedFps: (() => {
      const frames = delta(a?.in_video, b?.in_video, 'framesDecoded');
      return frames === null || !a || !b || b.at <= a.at ? null : round((frames * 1000) / (b.at - a.at), 1);
    })(),
    framesDropped: delta(a?.in_video, b?.in_video, 'framesDropped'),
    freezes: delta(a?.in_video, b?.in_video, 'freezeCount'),
    freezeSeconds: (() => {
      const d = delta(a?.in_video, b?.in_video, 'totalFreezesDuration');
      return d === null ? null : round(d, 2);
    })(),
    longestGapMs: longestGap === null ? null : Math.round(longestGap),
    join: {
      firstFrameMs: since(summary.marks, 'socketOpen', 'firstFrame'),
      answerMs: since(summary.marks, 'socketOpen', 'answer'),
      iceMs: since(summary.marks, 'socketOpen', 'ice_connected'),
      connectedMs: since(summary.marks, 'socketOpen', 'pc_connected'),
    },
    concealedShare: concealed !== null && received ? round(concealed / received, 3) : null,
    audioJitterMs: typeof b?.in_audio?.jitter === 'number' ? round(b.in_audio.jitter * 1000, 1) : null,
    audioPacketsLost: delta(a?.in_audio, b?.in_audio, 'packetsLost'),
  };
}

/**
 * Whether latency grew over a long window: p50 of the last `sliceMs` against the first's.
 * Returns both medians and their difference.
 */
export function latencyGrowth(summary: ProbeSummary, from: number, to: number, sliceMs: number): { firstMs: number | null; lastMs: number | null; growthMs: number | null } {
  const slice = (a: number, b: number): number | null => {
    const values = summary.frames.filter((f) => inWindow(f.at, a, b)).map((f) => f.latency);
    return values.length ? distribution(values).p50 : null;
  };
  const firstMs = slice(from, from + sliceMs);
  const lastMs = slice(to - sliceMs, to);
  return { firstMs, lastMs, growthMs: firstMs !== null && lastMs !== null ? round(lastMs - firstMs, 0) : null };
}
