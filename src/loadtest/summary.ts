/** The load test's figures from its counters: the JSON summary and the live status line. Pure. */
import type { ReceiveCounts } from '../bot/ReceiveCounter.ts';
import type { SentCounts } from './LoadClient.ts';
import type { LoadTestSummary, ReceiverFigures } from './LoadTestTypes.ts';
import { mean, median, round } from './numbers.ts';

/** One receiver's counters at the two ends of the window, and what was measured in between. */
export interface ReceiverWindow {
  name: string;
  role: 'publisher' | 'viewer';
  alive: boolean;
  start: { received: ReceiveCounts; sent: SentCounts };
  end: { received: ReceiveCounts; sent: SentCounts };
  seconds: number;
  /** Frames received in each whole second of the window. */
  secondFrames: number[];
  longestGapMs: number;
}

const kbps = (bytes: number, seconds: number): number => round((bytes * 8) / 1000 / seconds, 1);

export function receiverFigures(w: ReceiverWindow): ReceiverFigures {
  const d = (key: keyof ReceiveCounts): number => w.end.received[key] - w.start.received[key];
  const sentBytes = w.end.sent.videoBytes + w.end.sent.audioBytes - w.start.sent.videoBytes - w.start.sent.audioBytes;
  return {
    name: w.name,
    role: w.role,
    alive: w.alive,
    fps: round(d('videoFrames') / w.seconds, 1),
    lowestSecondFps: w.secondFrames.length ? Math.min(...w.secondFrames) : null,
    longestGapMs: Math.round(w.longestGapMs),
    downVideoKbps: kbps(d('videoBytes'), w.seconds),
    downAudioKbps: kbps(d('audioBytes'), w.seconds),
    upKbps: w.role === 'publisher' ? kbps(sentBytes, w.seconds) : null,
    keyframes: d('keyframes'),
    ssrcChanges: d('videoSsrcChanges'),
    seqJumps: d('videoSeqJumps'),
  };
}

/** The window's figures over every receiver (those lost during it count with what they got). */
export function windowFigures(receivers: readonly ReceiverFigures[], seconds: number): NonNullable<LoadTestSummary['window']> {
  const fps = receivers.map((r) => r.fps);
  const gaps = receivers.map((r) => r.longestGapMs);
  const lowest = receivers.map((r) => r.lowestSecondFps).filter((v): v is number => v !== null);
  const totals = receivers.map((r) => r.downVideoKbps + r.downAudioKbps);
  const up = receivers.map((r) => r.upKbps).filter((v): v is number => v !== null);
  const video = mean(receivers.map((r) => r.downVideoKbps));
  const audio = mean(receivers.map((r) => r.downAudioKbps));
  const upMean = mean(up);
  return {
    seconds: round(seconds, 2),
    receivers: receivers.length,
    fps: { median: median(fps), min: fps.length ? Math.min(...fps) : null, lowestSecond: lowest.length ? Math.min(...lowest) : null },
    longestGapMs: { median: median(gaps), max: gaps.length ? Math.max(...gaps) : null },
    downlinkKbps: {
      video: video === null ? null : round(video, 1),
      audio: audio === null ? null : round(audio, 1),
      totalMin: totals.length ? round(Math.min(...totals), 1) : null,
      totalMax: totals.length ? round(Math.max(...totals), 1) : null,
    },
    uplinkKbpsPerPublisher: upMean === null ? null : round(upMean, 1),
    ssrcChanges: receivers.reduce((sum, r) => sum + r.ssrcChanges, 0),
    seqJumps: receivers.reduce((sum, r) => sum + r.seqJumps, 0),
  };
}

/** What the status line shows, gathered once a second. */
export interface StatusFigures {
  phase: string;
  publishers: { connected: number; requested: number };
  viewers: { connected: number; requested: number };
  /** Frames each connected receiver got in the last second. */
  fps: number[];
  /** Longest gap between frames at any receiver in the last second (ms). */
  gapMs: number;
  /** Mean composite + mix kbit/s per receiver over the last second. */
  downKbps: number | null;
  latencyP50Ms: number | null;
  cpuCores: number | null;
  lateMaxMs: number | null;
  elapsedSeconds: number;
}

const f = (v: number | null, digits = 0): string => (v === null ? '-' : v.toFixed(digits));

export function statusLine(s: StatusFigures): string {
  const sorted = [...s.fps].sort((a, b) => a - b);
  const fps = sorted.length ? `fps ${f(median(sorted), 0)} (min ${sorted[0]})` : 'fps -';
  return [
    `${s.phase} ${Math.round(s.elapsedSeconds)} s`,
    `pub ${s.publishers.connected}/${s.publishers.requested} view ${s.viewers.connected}/${s.viewers.requested}`,
    fps,
    `gap ${Math.round(s.gapMs)} ms`,
    `down ${f(s.downKbps)} kbit/s`,
    `latency p50 ${f(s.latencyP50Ms)} ms`,
    `cpu ${f(s.cpuCores, 2)}`,
    `late ${f(s.lateMaxMs)} ms`,
  ].join(' | ');
}
