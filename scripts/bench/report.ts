/** The bench's figures as a table, the targets with PASS/MISS, and the chart's series. */
import type { ScenarioResult } from './browser.ts';
import type { BareResult } from './bare.ts';
import type { CalibrationResult } from './calibrate.ts';
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
  options: { sizes: number[]; seconds: number; settleSeconds: number; windows: number; botNice: number; quietWaitSeconds: number };
  machine: MachineInfo;
  calibration: CalibrationResult | null;
  runs: RunFigures[];
  /** The Chromium rooms (scripts/bench/browser.ts); empty with --no-browser. */
  browser: ScenarioResult[];
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
    'N', 'alive', 'srv CPU', 'bare CPU', 'ratio', 'RSS MiB', 'fps med/min', 'gap ms', 'lat p50/p95', '1st-seen p50',
    'codes read', 'join→tile med/max', 'down kbps', 'SFU kbps', 'MCU/SFU', 'SFU nominal', 'other load',
  ];
  const rows = runs.map((r) => {
    const m = r.mcu;
    const lat = m.latency;
    const readShare = lat && lat.tilesExpected ? `${Math.round((100 * lat.tilesRead) / lat.tilesExpected)}%` : '-';
    return [
      String(r.participants) + (m.ok ? '' : m.server.cpu !== null ? ' PART' : ' FAIL'),
      `${m.alive}/${r.participants}`,
      f(m.server.cpu, 2),
      r.bare?.ok ? f(r.bare.cpu, 2) : 'FAIL',
      f(r.cpuRatio, 2),
      f(m.server.rssMiB),
      `${f(m.composite.fpsMedian, 1)}/${f(m.composite.fpsMin, 1)}`,
      f(m.composite.longestGapMaxMs),
      lat ? `${f(lat.allFrames.p50)}/${f(lat.allFrames.p95)}` : '-',
      lat ? f(lat.firstSeen.p50) : '-',
      readShare,
      m.joinToTileMs ? `${f(m.joinToTileMs.p50)}/${f(m.joinToTileMs.max)}` : '-',
      f(m.downlink.totalKbps),
      f(m.sfuDownlinkKbps),
      f(m.mcuOverSfu, 2),
      String(r.nominalSfuDownlinkKbps),
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
        `machine busy ${f(machine.busyCores, 2)} cores, bots ${f(machine.botsCores, 2)}, other ${f(machine.otherCores, 2)}`
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
  return r && !r.mcu.ok ? ` [incomplete run: ${r.mcu.alive} of ${r.participants} bots stayed connected, so MISS]` : '';
}

export function evaluateTargets(runs: RunFigures[]): TargetCheck[] {
  const nine = figuresAt(runs, 9);
  const checks: TargetCheck[] = [];
  const fps = nine?.mcu.composite.fpsMedian ?? null;
  checks.push({
    target: 'N=9: composite >= 29 fps (median over the bots)',
    measured: fps === null ? 'not measured' : `${fps.toFixed(1)} fps (lowest bot ${f(nine?.mcu.composite.fpsMin, 1)})${partialNote(nine)}`,
    verdict: verdict(fps === null ? null : fps >= 29 && nine!.mcu.ok),
  });
  const ratio = nine?.cpuRatio ?? null;
  checks.push({
    target: 'N=9: server CPU <= 1.25 x bare FFmpeg',
    measured: ratio === null ? 'not measured' : `${f(nine?.mcu.server.cpu, 2)} vs ${f(nine?.bare?.cpu, 2)} cores = ${ratio.toFixed(2)}x${partialNote(nine)}`,
    verdict: verdict(ratio === null ? null : ratio <= 1.25 && nine!.mcu.ok),
  });
  const p50 = nine?.mcu.latency?.allFrames.p50 ?? null;
  checks.push({
    target: 'N=9: glass-to-glass p50 < 150 ms',
    measured: p50 === null ? 'not measured' : `p50 ${p50} ms, p95 ${f(nine?.mcu.latency?.allFrames.p95)} ms${partialNote(nine)}`,
    verdict: verdict(p50 === null ? null : p50 < 150 && nine!.mcu.ok),
  });
  // Only runs in which every participant stayed: a smaller room is another N.
  const downs = runs.filter((r) => r.participants >= 2 && r.mcu.ok && r.mcu.downlink.totalKbps !== null);
  const incomplete = runs.filter((r) => r.participants >= 2 && !r.mcu.ok).map((r) => r.participants);
  const two = downs.find((r) => r.participants === 2)?.mcu.downlink.totalKbps ?? null;
  const sixteen = downs.some((r) => r.participants === 16);
  if (two !== null && downs.length >= 2) {
    // Without a complete N=16 run the target ("to N=16") can be missed but not met.
    const worst = Math.max(...downs.map((r) => Math.abs(r.mcu.downlink.totalKbps! / two - 1)));
    checks.push({
      target: 'downlink per participant within 10% from N=2 to N=16',
      measured:
        downs.map((r) => `N=${r.participants} ${r.mcu.downlink.totalKbps!.toFixed(0)}`).join(', ') +
        ` kbit/s: at most ${(worst * 100).toFixed(0)}% from N=2${sixteen ? '' : ' (N=16 not measured completely)'}` +
        `${incomplete.length ? ` [incomplete runs left out: N=${incomplete.join(', ')}]` : ''}`,
      verdict: worst > 0.1 ? 'MISS' : sixteen ? 'PASS' : 'n/a',
    });
  } else {
    checks.push({ target: 'downlink per participant within 10% from N=2 to N=16', measured: 'needs N=2 and a larger N', verdict: 'n/a' });
  }
  const share = nine?.mcu.mcuOverSfu ?? null;
  checks.push({
    target: 'N=9: MCU downlink < 0.2 x SFU downlink',
    measured:
      share === null
        ? 'not measured'
        : `${f(nine?.mcu.downlink.totalKbps)} vs ${f(nine?.mcu.sfuDownlinkKbps)} kbit/s = ${share.toFixed(2)}x ` +
          `(vs nominal SFU ${nine!.nominalSfuDownlinkKbps} kbit/s: ${(nine!.mcu.downlink.totalKbps! / nine!.nominalSfuDownlinkKbps).toFixed(2)}x)${partialNote(nine)}`,
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

export function chartPanels(runs: RunFigures[]): [ChartPanel, ChartPanel] {
  // Figures of the server's run are hollow where not every bot stayed; the reference's never are.
  const point = (r: RunFigures, y: number | null | undefined, complete = r.mcu.ok): { x: number; y: number | null; incomplete: boolean } => ({
    x: r.participants,
    y: y ?? null,
    incomplete: !complete,
  });
  return [
    {
      title: 'Server CPU (node + all FFmpeg children)',
      yLabel: 'share of one core',
      series: [
        { label: 'MCU server', color: '#1f77b4', points: runs.map((r) => point(r, r.mcu.server.cpu)) },
        { label: 'bare FFmpeg (decode + grid + encode)', color: '#ff7f0e', points: runs.map((r) => point(r, r.bare?.ok ? r.bare.cpu : null, true)) },
        {
          label: 'target: 1.25 x bare FFmpeg',
          color: '#999',
          dashed: true,
          points: runs.map((r) => point(r, r.bare?.ok && r.bare.cpu !== null ? 1.25 * r.bare.cpu : null, true)),
        },
      ],
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
