/** The bench's figures as a table, the targets with PASS/MISS, and the chart's series. */
import type { ScenarioResult } from './browser.ts';
import type { BareResult } from './bare.ts';
import type { CalibrationResult } from './calibrate.ts';
import type { LadderReport } from './ladderFigures.ts';
import type { ChartPanel } from './chart.ts';
import type { MachineInfo } from './machine.ts';
import type { McuResult } from './mcu.ts';
import { round } from './numbers.ts';

export interface RunFigures {
  participants: number;
  mcu: McuResult;
  bare: BareResult | null;
  /** Server CPU ÷ bare FFmpeg CPU. */
  cpuRatio: number | null;
  /** What an SFU would send each participant if every publisher used its nominal bitrate (800 + 32 kbit/s). */
  nominalSfuDownlinkKbps: number;
  /** Cores busy with other work just before this N started (the bench waits for a quiet machine, bounded). */
  busyBeforeCores: number | null;
}

export interface TargetCheck {
  target: string;
  measured: string;
  verdict: 'PASS' | 'MISS' | 'n/a';
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  command: string;
  options: { sizes: number[]; seconds: number; settleSeconds: number; loadNice: number; speakers: number | 'all'; decodeSilence: boolean; published: { width: number; height: number; fps: number; bitrateKbps: number }; quietWaitSeconds: number };
  /** The largest N at which every participant stayed connected and every receiver got at least 29 fps. */
  largestHeldN: number | null;
  machine: MachineInfo;
  calibration: CalibrationResult | null;
  runs: RunFigures[];
  /** The Chromium rooms (scripts/bench/browser.ts); empty with --no-browser. */
  browser: ScenarioResult[];
  /** The ladder's CPU cost against a single encode (scripts/bench/ladder.ts); null with --no-ladder. */
  ladder: LadderReport | null;
  targets: TargetCheck[];
  notes: string[];
}

const NOMINAL_UPLINK_KBPS = 800 + 32;

export function runFigures(participants: number, mcu: McuResult, bare: BareResult | null, busyBeforeCores: number | null = null): RunFigures {
  const cpuRatio = mcu.server.cpu !== null && bare?.cpu ? round(mcu.server.cpu / bare.cpu, 2) : null;
  return { participants, mcu, bare, cpuRatio, nominalSfuDownlinkKbps: (participants - 1) * NOMINAL_UPLINK_KBPS, busyBeforeCores };
}

const f = (v: number | null | undefined, digits = 0): string => (v === null || v === undefined ? '-' : v.toFixed(digits));

function pad(cells: string[][]): string {
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
  return cells.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

export function formatTable(runs: RunFigures[]): string {
  const header = [
    'N', 'alive', 'srv CPU', 'bare CPU', 'ratio', 'load CPU', 'RSS MiB', 'fps med/min', 'worst 1 s', 'gap ms', 'lat p50/p95',
    'bot lat p50', 'join→tile med/max', 'down kbps', 'up kbps', 'SFU kbps', 'MCU/SFU', 'late p95', 'other load',
  ];
  const rows = runs.map((r) => {
    const m = r.mcu;
    const lat = m.latency;
    return [
      String(r.participants) + (m.ok ? '' : m.server.cpu !== null ? ' PART' : ' FAIL'),
      `${m.alive}/${r.participants}`,
      f(m.server.cpu, 2),
      r.bare?.ok ? f(r.bare.cpu, 2) : 'FAIL',
      f(r.cpuRatio, 2),
      f(m.load.cpu, 2),
      f(m.server.rssMiB),
      `${f(m.composite.fpsMedian, 1)}/${f(m.composite.fpsMin, 1)}`,
      f(m.composite.lowestSecondFps),
      f(m.composite.longestGapMaxMs),
      lat ? `${f(lat.p50)}/${f(lat.p95)}` : '-',
      f(m.botLatency?.p50),
      m.joinToTileMs ? `${f(m.joinToTileMs.p50)}/${f(m.joinToTileMs.max)}` : '-',
      f(m.downlink.totalKbps),
      f(m.uplinkKbpsPerPublisher),
      f(m.sfuDownlinkKbps),
      f(m.mcuOverSfu, 2),
      f(m.load.pacingLateP95Ms, 1),
      m.machine.otherCores === null ? '-' : `${m.machine.otherCores.toFixed(2)} cores`,
    ];
  });
  return pad([header, ...rows]);
}

/** Where the server's CPU went, per N: FFmpeg by role and the node process's threads. */
export function formatCpuBreakdown(runs: RunFigures[]): string {
  return runs
    .filter((r) => r.mcu.server.cpu !== null)
    .map((r) => {
      const roles = r.mcu.server.byRole.map((role) => `${role.role} ${role.cpu.toFixed(2)} (${role.processes})`).join(', ');
      const main = r.mcu.server.threads.find((t) => t.main);
      const others = r.mcu.server.threads.filter((t) => !t.main).slice(0, 3).map((t) => `${t.name}#${t.tid} ${t.cpu.toFixed(2)}`);
      const machine = r.mcu.machine;
      return (
        `  N=${r.participants}: ${roles}\n` +
        `       node threads: main ${f(main?.cpu, 2)}${others.length ? `, ${others.join(', ')}` : ''}; ` +
        `machine busy ${f(machine.busyCores, 2)} cores, participants (bot 0 + load generator) ${f(machine.participantsCores, 2)}, other ${f(machine.otherCores, 2)}`
      );
    })
    .join('\n');
}

/** The run for N participants if it was measured at all (complete or not). */
function figuresAt(runs: RunFigures[], n: number): RunFigures | undefined {
  return runs.find((r) => r.participants === n && r.mcu.server.cpu !== null);
}

const verdict = (pass: boolean | null): TargetCheck['verdict'] => (pass === null ? 'n/a' : pass ? 'PASS' : 'MISS');

/** A target for N participants is met only by a run in which all N stayed connected. */
function partialNote(r: RunFigures | undefined): string {
  return r && !r.mcu.ok ? ` [incomplete run: ${r.mcu.alive} of ${r.participants} participants stayed connected, so MISS]` : '';
}

/** Every participant connected through the window and at least this many frames a second at every receiver: the room holds. */
const HOLDS_FPS = 29;
const holds = (r: RunFigures): boolean => r.mcu.ok && r.mcu.composite.fpsMin !== null && r.mcu.composite.fpsMin >= HOLDS_FPS;

/** The largest N measured at which every participant stayed connected and every receiver got at least 29 fps. */
export function largestHeldN(runs: RunFigures[]): number | null {
  const held = runs.filter(holds).map((r) => r.participants);
  return held.length ? Math.max(...held) : null;
}

export function evaluateTargets(runs: RunFigures[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const r of runs) {
    const m = r.mcu;
    checks.push({
      target: `N=${r.participants}: every participant connected and alive, composite >= ${HOLDS_FPS} fps at every receiver`,
      measured:
        m.server.cpu === null
          ? `not measured (${m.error ?? 'no window'})`
          : `${m.alive}/${r.participants} alive, lowest receiver ${f(m.composite.fpsMin, 1)} fps (median ${f(m.composite.fpsMedian, 1)}, worst second ${f(m.composite.lowestSecondFps)})`,
      verdict: verdict(m.server.cpu === null ? null : holds(r)),
    });
  }
  for (const n of [16, 25]) {
    const r = figuresAt(runs, n);
    const ratio = r?.cpuRatio ?? null;
    checks.push({
      target: `N=${n}: server CPU <= 1.3 x bare FFmpeg (same run)`,
      measured:
        ratio === null
          ? 'not measured'
          : `${f(r?.mcu.server.cpu, 2)} vs ${f(r?.bare?.cpu, 2)} cores = ${ratio.toFixed(2)}x; load generator ${f(r?.mcu.load.cpu, 2)} cores${partialNote(r)}`,
      verdict: verdict(ratio === null ? null : ratio <= 1.3 && r!.mcu.ok),
    });
  }
  const nine = figuresAt(runs, 9);
  const p50 = nine?.mcu.latency?.p50 ?? null;
  checks.push({
    target: 'N=9: glass-to-glass p50 < 150 ms',
    measured: p50 === null ? 'not measured' : `p50 ${p50} ms, p95 ${f(nine?.mcu.latency?.p95)} ms (bot 0's own tile: p50 ${f(nine?.mcu.botLatency?.p50)} ms)${partialNote(nine)}`,
    verdict: verdict(p50 === null ? null : p50 < 150 && nine!.mcu.ok),
  });
  const downs = runs.filter((r) => r.participants >= 2 && r.mcu.ok && r.mcu.downlink.totalKbps !== null);
  if (downs.length >= 2) {
    const base = downs[0]!;
    const worst = Math.max(...downs.map((r) => Math.abs(r.mcu.downlink.totalKbps! / base.mcu.downlink.totalKbps! - 1)));
    checks.push({
      target: 'downlink per participant within 10% whatever N',
      measured: `${downs.map((r) => `N=${r.participants} ${r.mcu.downlink.totalKbps!.toFixed(0)}`).join(', ')} kbit/s: at most ${(worst * 100).toFixed(0)}% from N=${base.participants}`,
      verdict: worst > 0.1 ? 'MISS' : 'PASS',
    });
  }
  const share = nine?.mcu.mcuOverSfu ?? null;
  checks.push({
    target: 'N=9: MCU downlink < 0.2 x SFU downlink',
    measured: share === null ? 'not measured' : `${f(nine?.mcu.downlink.totalKbps)} vs ${f(nine?.mcu.sfuDownlinkKbps)} kbit/s = ${share.toFixed(2)}x${partialNote(nine)}`,
    verdict: verdict(share === null ? null : share < 0.2 && nine!.mcu.ok),
  });
  return checks;
}

export function formatTargets(checks: TargetCheck[]): string {
  return checks.map((c) => `  ${c.verdict.padEnd(4)}  ${c.target}: ${c.measured}`).join('\n');
}

export function formatCalibration(c: CalibrationResult | null): string {
  if (!c) return 'calibration: skipped';
  if (!c.ok || !c.latency) return `calibration: FAILED (${c.error ?? 'no figures'})`;
  return (
    `calibration (bot source → recorder, no server): p50 ${f(c.latency.p50)} ms, p95 ${f(c.latency.p95)} ms, ` +
    `min ${f(c.latency.min)} ms over ${c.codesRead}/${c.frames} frames; timecode CPU ${f(c.sourceCpuWithTimecode, 3)} ` +
    `vs ${f(c.sourceCpuPlain, 3)} of a core without it`
  );
}

/** The roles drawn in the cost panel, as roleOf() in server.ts names them. */
const ROLE_COLOURS: [string, string][] = [
  ['ffmpeg compositor', '#1f77b4'],
  ['ffmpeg video decoder', '#ff7f0e'],
  ['ffmpeg audio decoder', '#2ca02c'],
  ['ffmpeg audio encoder', '#d62728'],
  ['server node', '#9467bd'],
  ['mcu-session', '#8c564b'],
  ['mcu-spawner', '#e377c2'],
];

export function chartPanels(runs: RunFigures[]): ChartPanel[] {
  // Figures of the server's run are hollow where not every participant stayed; the reference's never are.
  const point = (r: RunFigures, y: number | null | undefined, complete = r.mcu.ok): { x: number; y: number | null; incomplete: boolean } => ({
    x: r.participants,
    y: y ?? null,
    incomplete: !complete,
  });
  const role = (r: RunFigures, name: string): number | null => (r.mcu.server.cpu === null ? null : (r.mcu.server.byRole.find((x) => x.role === name)?.cpu ?? 0));
  return [
    {
      title: 'Server CPU against the reference',
      yLabel: 'share of one core',
      series: [
        { label: 'MCU server (node + all FFmpeg)', color: '#1f77b4', points: runs.map((r) => point(r, r.mcu.server.cpu)) },
        { label: 'bare FFmpeg (decode + grid + encode)', color: '#ff7f0e', points: runs.map((r) => point(r, r.bare?.ok ? r.bare.cpu : null, true)) },
        { label: 'target: 1.3 x bare FFmpeg', color: '#999', dashed: true, points: runs.map((r) => point(r, r.bare?.ok && r.bare.cpu !== null ? 1.3 * r.bare.cpu : null, true)) },
        { label: 'load generator (N-1 clients)', color: '#2ca02c', points: runs.map((r) => point(r, r.mcu.load.cpu)) },
      ],
    },
    {
      title: 'Where the server CPU goes',
      yLabel: 'share of one core',
      series: ROLE_COLOURS.map(([name, color]) => ({ label: name, color, points: runs.map((r) => point(r, role(r, name))) })),
    },
    {
      title: 'Downlink per participant',
      yLabel: 'kbit/s (RTP payload)',
      series: [
        { label: 'MCU (composite + mix), measured', color: '#1f77b4', points: runs.map((r) => point(r, r.mcu.downlink.totalKbps)) },
        { label: "SFU: others' measured uplink", color: '#2ca02c', points: runs.map((r) => point(r, r.mcu.sfuDownlinkKbps ?? (r.participants === 1 ? 0 : null))) },
      ],
    },
  ];
}
