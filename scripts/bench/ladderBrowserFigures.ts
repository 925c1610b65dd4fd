/**
 * What the ladder gave a Chromium viewer, from its probe page's record (browserProbe.page.js):
 * pure arithmetic over its getStats() samples, shown frames and `rung` messages. The rung it
 * receives is read from what it decodes (the frame height), as a person would see it.
 */
import { browserFigures, type ProbeSummary } from './browserFigures.ts';
import { round, type Distribution } from './numbers.ts';

/** One second of a viewer's record. */
export interface LadderSample {
  /** Seconds since the start of the run. */
  t: number;
  /** The height of the pictures it decodes (0: none yet). */
  height: number;
  /** Kbit/s received (video and audio, RTP payload and headers as getStats counts them). */
  receivedKbps: number | null;
  /** Frames shown in the second before. */
  shownFps: number;
  /** The rung and estimate of the server's last `rung` message. */
  rung: number | null;
  estimateKbps: number | null;
}

export interface LadderPhase {
  name: string;
  /** The viewer's downlink in kbit/s (undefined: not shaped). */
  kbps: number | undefined;
  seconds: number;
}

export interface PhaseFigures {
  name: string;
  kbps: number | null;
  /** The height it decodes at the end of the phase, and how long after the phase began it reached it for good. */
  settledHeight: number | null;
  settledAfterS: number | null;
  /** From when it settled to the end of the phase: what it showed. */
  fps: number | null;
  longestGapMs: number | null;
  freezes: number | null;
  glassToGlass: Distribution | null;
  receivedKbps: number | null;
}

const bytesOf = (s: ProbeSummary['stats'][number]): number | null => {
  const video = s.in_video?.bytesReceived;
  return typeof video === 'number' ? video + (s.in_audio?.bytesReceived ?? 0) : null;
};

/** The viewer's record from `from` to `to` (epoch ms), a sample per getStats() sample. */
export function ladderTimeline(summary: ProbeSummary, from: number, to: number): LadderSample[] {
  const stats = summary.stats.filter((s) => s.at >= from && s.at <= to);
  const rungs = summary.rungs ?? [];
  return stats.map((s, i) => {
    const before = stats[i - 1];
    const bytes = bytesOf(s);
    const earlier = before && bytesOf(before);
    const message = rungs.filter((r) => r.at <= s.at).at(-1);
    return {
      t: round((s.at - from) / 1000, 1),
      height: s.in_video?.frameHeight ?? 0,
      receivedKbps: bytes !== null && earlier != null && before && s.at > before.at ? round(((bytes - earlier) * 8) / (s.at - before.at), 0) : null,
      shownFps: summary.shown.filter((at) => at > s.at - 1000 && at <= s.at).length,
      rung: message?.rung ?? null,
      estimateKbps: message?.estimateKbps ?? null,
    };
  });
}

/** Figures per phase of the viewer's link; `started`: when each phase began (epoch ms); `end`: when the last ended. */
export function ladderPhases(summary: ProbeSummary, started: { phase: LadderPhase; at: number }[], end: number): PhaseFigures[] {
  return started.map(({ phase, at }, i) => {
    const until = started[i + 1]?.at ?? end;
    const timeline = ladderTimeline(summary, at, until);
    const last = timeline.at(-1);
    const settledHeight = last && last.height > 0 ? last.height : null;
    // The first sample from which every later one shows the settled height.
    let settledIndex = timeline.length;
    while (settledIndex > 0 && timeline[settledIndex - 1]!.height === settledHeight) settledIndex--;
    const settled = settledHeight === null || settledIndex >= timeline.length ? undefined : timeline[settledIndex]!;
    const settledAt = settled ? at + settled.t * 1000 : undefined;
    const window = settledAt === undefined ? undefined : browserFigures(summary, settledAt, until);
    const received = timeline.slice(settledIndex).map((s) => s.receivedKbps).filter((k): k is number => k !== null);
    return {
      name: phase.name,
      kbps: phase.kbps ?? null,
      settledHeight,
      settledAfterS: settled ? settled.t : null,
      fps: window?.fps ?? null,
      longestGapMs: window?.longestGapMs ?? null,
      freezes: window?.freezes ?? null,
      glassToGlass: window?.glassToGlassMs ?? null,
      receivedKbps: received.length ? round(received.reduce((a, b) => a + b, 0) / received.length, 0) : null,
    };
  });
}

export interface LadderTarget {
  target: string;
  value: string;
  pass: boolean;
}

/** The issue's targets, checked against the weak viewer's phases (the first of each link rate) and the strong viewer's heights. */
export function ladderTargets(phases: PhaseFigures[], strongHeights: number[]): LadderTarget[] {
  const at = (kbps: number): PhaseFigures | undefined => phases.find((p) => p.kbps === kbps);
  const low = at(300);
  const middle = at(800);
  const open = at(3000);
  // The longest climb: from the lowest rung, with Chromium's estimate sunk by the weak link.
  const fromLowest = phases.find((p, i) => p.kbps === 3000 && phases[i - 1]?.kbps === 300);
  const show = (n: number | null | undefined, unit = ''): string => (n === null || n === undefined ? '-' : `${n}${unit}`);
  return [
    { target: '300 kbit/s: lowest rung (180p) within 5 s', value: `${show(low?.settledHeight, 'p')} after ${show(low?.settledAfterS, ' s')}`, pass: low?.settledHeight === 180 && (low.settledAfterS ?? Infinity) <= 5 },
    { target: '300 kbit/s: then at least 24 fps shown', value: show(low?.fps), pass: (low?.fps ?? 0) >= 24 },
    { target: '300 kbit/s: no freeze over 500 ms', value: show(low?.longestGapMs, ' ms'), pass: (low?.longestGapMs ?? Infinity) <= 500 },
    { target: '300 kbit/s: glass-to-glass p95 at most 400 ms', value: show(low?.glassToGlass?.p95, ' ms'), pass: (low?.glassToGlass?.p95 ?? Infinity) <= 400 },
    { target: '800 kbit/s: settles on the middle rung (360p)', value: show(middle?.settledHeight, 'p'), pass: middle?.settledHeight === 360 },
    { target: '3 Mbit/s: back to 720p within 20 s', value: `${show(open?.settledHeight, 'p')} after ${show(open?.settledAfterS, ' s')}`, pass: open?.settledHeight === 720 && (open.settledAfterS ?? Infinity) <= 20 },
    {
      target: '3 Mbit/s straight after 300 kbit/s: 720p within 20 s',
      value: `${show(fromLowest?.settledHeight, 'p')} after ${show(fromLowest?.settledAfterS, ' s')}`,
      pass: fromLowest?.settledHeight === 720 && (fromLowest.settledAfterS ?? Infinity) <= 20,
    },
    { target: 'unshaped viewer: 720p throughout', value: strongHeights.map((h) => `${h}p`).join(', '), pass: strongHeights.length === 1 && strongHeights[0] === 720 },
  ];
}

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/**
 * The viewer's received bitrate (line, left axis) and the height it decodes (steps, right axis)
 * over time, with the link's phases marked: the README's figure.
 */
export function ladderChartSvg(timeline: LadderSample[], phases: { name: string; at: number }[]): string {
  const W = 900;
  const H = 380;
  const left = 70;
  const right = 70;
  const top = 50;
  const plotH = 260;
  const plotW = W - left - right;
  const tMax = Math.max(1, ...timeline.map((s) => s.t));
  const kMax = Math.max(500, Math.ceil(Math.max(...timeline.map((s) => s.receivedKbps ?? 0)) / 500) * 500);
  const hMax = 720;
  const px = (t: number): number => left + (t / tMax) * plotW;
  const pk = (k: number): number => top + plotH - (k / kMax) * plotH;
  const ph = (h: number): number => top + plotH - (h / hMax) * plotH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">A Chromium viewer's rung as its downlink falls and recovers</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const k = (kMax * i) / 5;
    parts.push(`<line x1="${left}" y1="${pk(k)}" x2="${left + plotW}" y2="${pk(k)}" stroke="#e4e4e4"/>`);
    parts.push(`<text x="${left - 8}" y="${pk(k) + 4}" text-anchor="end" font-size="12">${k}</text>`);
  }
  for (const h of [180, 360, 720]) parts.push(`<text x="${left + plotW + 8}" y="${ph(h) + 4}" font-size="12" fill="#c03030">${h}p</text>`);
  for (const phase of phases) {
    parts.push(`<line x1="${px(phase.at)}" y1="${top}" x2="${px(phase.at)}" y2="${top + plotH}" stroke="#888" stroke-dasharray="4,4"/>`);
    parts.push(`<text x="${px(phase.at) + 4}" y="${top + 14}" font-size="12" fill="#444">${escape(phase.name)}</text>`);
  }
  const kbps = timeline.filter((s) => s.receivedKbps !== null);
  if (kbps.length > 1) {
    parts.push(`<path d="${kbps.map((s, i) => `${i ? 'L' : 'M'}${px(s.t).toFixed(1)},${pk(s.receivedKbps!).toFixed(1)}`).join(' ')}" fill="none" stroke="#2060c0" stroke-width="2"/>`);
  }
  const steps = timeline.filter((s) => s.height > 0);
  if (steps.length > 1) {
    const d = steps.map((s, i) => (i ? `H${px(s.t).toFixed(1)}V${ph(s.height).toFixed(1)}` : `M${px(s.t).toFixed(1)},${ph(s.height).toFixed(1)}`)).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="#c03030" stroke-width="2.5"/>`);
  }
  parts.push(`<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#333"/>`);
  for (let t = 0; t <= tMax; t += 10) parts.push(`<text x="${px(t)}" y="${top + plotH + 18}" text-anchor="middle" font-size="12">${t}</text>`);
  parts.push(`<text x="${left + plotW / 2}" y="${top + plotH + 40}" text-anchor="middle" font-size="13">seconds</text>`);
  parts.push(`<text x="20" y="${top + plotH / 2}" font-size="13" fill="#2060c0" transform="rotate(-90 20 ${top + plotH / 2})" text-anchor="middle">received kbit/s</text>`);
  parts.push(`<text x="${W - 14}" y="${top + plotH / 2}" font-size="13" fill="#c03030" transform="rotate(90 ${W - 14} ${top + plotH / 2})" text-anchor="middle">height decoded</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}
