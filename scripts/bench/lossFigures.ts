/**
 * What the browser did with the mix over one window of the loss bench (lossConcealment.ts): pure
 * arithmetic over the probe page's getStats() samples of the inbound audio.
 */
import { delta, jitterBufferMs, samplesAround, targetMs, type StatsSample } from './browserFigures.ts';
import { round } from './numbers.ts';

export interface LossFigures {
  /** The mix's bitrate as received (RTP payload and header bytes). */
  kbps: number | null;
  packetsReceived: number | null;
  packetsLost: number | null;
  /** Lost of (received + lost), in percent. */
  lostPercent: number | null;
  totalSamplesReceived: number | null;
  concealedSamples: number | null;
  /** Concealed of the samples played, in percent; `audible`: less what was concealed as silence. */
  concealedPercent: number | null;
  audibleConcealedPercent: number | null;
  silentConcealedSamples: number | null;
  concealmentEvents: number | null;
  insertedSamplesForDeceleration: number | null;
  removedSamplesForAcceleration: number | null;
  /** RFC 3550 interarrival jitter as the browser reported it each second: mean and largest, ms. */
  jitterMs: { mean: number; max: number } | null;
  jitterBufferMs: number | null;
  jitterBufferTargetMs: number | null;
  /** Null when the browser does not report them. */
  fecPacketsReceived: number | null;
  fecPacketsDiscarded: number | null;
}

const percent = (part: number | null, whole: number | null): number | null => (part === null || whole === null || whole <= 0 ? null : round((part / whole) * 100, 2));

/** Figures of the inbound audio between the first and the last sample inside [from, to]; null with fewer than two. */
export function lossFigures(stats: StatsSample[], from: number, to: number): LossFigures | null {
  const around = samplesAround(stats, from, to);
  if (!around) return null;
  const [a, b] = [around[0].in_audio, around[1].in_audio];
  const d = (key: Parameters<typeof delta>[2]): number | null => delta(a, b, key);
  const received = d('packetsReceived');
  const lost = d('packetsLost');
  const samples = d('totalSamplesReceived');
  const concealed = d('concealedSamples');
  const silent = d('silentConcealedSamples');
  const jitters = stats
    .filter((s) => s.at >= from && s.at <= to)
    .map((s) => s.in_audio?.jitter)
    .filter((j): j is number => typeof j === 'number');
  const bytes = d('bytesReceived');
  const seconds = (around[1].at - around[0].at) / 1000;
  return {
    kbps: bytes === null || seconds <= 0 ? null : round((bytes * 8) / seconds / 1000, 1),
    packetsReceived: received,
    packetsLost: lost,
    lostPercent: percent(lost, received === null || lost === null ? null : received + lost),
    totalSamplesReceived: samples,
    concealedSamples: concealed,
    concealedPercent: percent(concealed, samples),
    audibleConcealedPercent: percent(concealed === null || silent === null ? null : concealed - silent, samples),
    silentConcealedSamples: silent,
    concealmentEvents: d('concealmentEvents'),
    insertedSamplesForDeceleration: d('insertedSamplesForDeceleration'),
    removedSamplesForAcceleration: d('removedSamplesForAcceleration'),
    jitterMs: jitters.length
      ? { mean: round((jitters.reduce((x, y) => x + y, 0) / jitters.length) * 1000, 1), max: round(Math.max(...jitters) * 1000, 1) }
      : null,
    jitterBufferMs: jitterBufferMs(a, b),
    jitterBufferTargetMs: targetMs(a, b),
    fecPacketsReceived: d('fecPacketsReceived'),
    fecPacketsDiscarded: d('fecPacketsDiscarded'),
  };
}
