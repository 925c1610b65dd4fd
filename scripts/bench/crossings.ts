/**
 * What each process crossing of a video frame costs (README: Where the peers live):
 *   npm run bench:crossings -- --sizes 4,9 --seconds 8 --repeats 3
 * For each N: the pipe crossings alone (crossingsPipe.ts: frames read in place and copied), the
 * MCU as it runs and one bare FFmpeg doing the same decode + grid + encode (crossingsPipeline.ts),
 * repeated in turns; medians are printed and saved to artifacts/bench/crossings-latest.json, with
 * how busy the rest of the machine was. Ratios within one invocation are what count.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { runPipe, type PipeResult } from './crossingsPipe.ts';
import { FRAME_BYTES, runPipeline, type PipelineResult } from './crossingsPipeline.ts';
import { machineInfo } from './machine.ts';
import { percentile, round } from './numbers.ts';

process.env.MCU_LOG_LEVEL ??= 'warn';
const { values } = parseArgs({
  options: { sizes: { type: 'string', default: '4,9' }, seconds: { type: 'string', default: '8' }, repeats: { type: 'string', default: '3' } },
});
const sizes = values.sizes.split(',').map(Number);
const windowMs = Number(values.seconds) * 1000;
const repeats = Number(values.repeats);
if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 25) || !(windowMs >= 2000) || !Number.isInteger(repeats) || repeats < 1) {
  throw new TypeError('usage: crossings.ts [--sizes 4,9] [--seconds 8] [--repeats 3] (sizes 1-25, at least 2 s)');
}

/** The MCU's own processes (the harness's source and probe are left out). */
const MCU_ROLES = ['relay', 'session', 'spawner', 'decoders', 'compositors'];
const sum = (cpu: Record<string, number>, roles: string[]): number => roles.reduce((a, r) => a + (cpu[r] ?? 0), 0);
const median = (xs: (number | null | undefined)[]): number | null => {
  const sorted = xs.filter((x): x is number => typeof x === 'number').sort((a, b) => a - b);
  const m = percentile(sorted, 50);
  return m === null ? null : round(m, 3);
};

const machine = await machineInfo();
const pipes: PipeResult[] = [];
const pipelines: PipelineResult[] = [];
for (let r = 0; r < repeats; r++) {
  for (const n of sizes) {
    // Turns alternate, so that a change in the machine's load falls on both sides.
    const reads = r % 2 ? (['copy', 'direct'] as const) : (['direct', 'copy'] as const);
    for (const read of reads) pipes.push(await runPipe(read, n, FRAME_BYTES, Math.min(windowMs, 5000)));
    const modes = r % 2 ? (['bare', 'mcu'] as const) : (['mcu', 'bare'] as const);
    for (const mode of modes) {
      const result = await runPipeline(mode, n, windowMs);
      pipelines.push(result);
      const cpu = mode === 'mcu' ? sum(result.cpu, MCU_ROLES) : sum(result.cpu, ['relay', 'bare']);
      console.error(
        `repeat ${r + 1} N=${n} ${mode}: ${result.ok ? 'ok' : `FAILED ${result.error}`} cpu ${round(cpu, 2)} latency p50 ${result.latency.p50} fps ${result.fps}` +
          ` (load ${result.machine.load1}, other processes ${result.machine.otherCores} cores)`,
      );
    }
  }
}

const summary = sizes.map((n) => {
  const mcu = pipelines.filter((p) => p.participants === n && p.mode === 'mcu' && p.ok);
  const bare = pipelines.filter((p) => p.participants === n && p.mode === 'bare' && p.ok);
  const pipe = (read: 'direct' | 'copy'): PipeResult[] => pipes.filter((p) => p.participants === n && p.read === read);
  const roleMedians = Object.fromEntries(MCU_ROLES.map((role) => [role, median(mcu.map((m) => m.cpu[role]))]));
  const io = (role: string, dir: 'readMBps' | 'writtenMBps'): number | null => median(mcu.map((m) => m.io[role]?.[dir]));
  // Ratios per turn (MCU and bare ran one after the other), then their median.
  const turns = mcu.map((m, i) => ({ m, b: bare[i] })).filter((t): t is { m: PipelineResult; b: PipelineResult } => Boolean(t.b));
  return {
    participants: n,
    runs: { mcu: mcu.length, bare: bare.length },
    mcuCores: median(mcu.map((m) => sum(m.cpu, MCU_ROLES))),
    mcuCoresByRole: roleMedians,
    compositorsRunning: median(mcu.map((m) => m.compositors)),
    bareCores: median(bare.map((b) => sum(b.cpu, ['bare']))),
    ratioWithoutRelay: median(turns.map((t) => sum(t.m.cpu, MCU_ROLES.slice(1)) / (t.b.cpu.bare ?? NaN))),
    latencyP50: { mcu: median(mcu.map((m) => m.latency.p50)), bare: median(bare.map((b) => b.latency.p50)) },
    latencyP95: { mcu: median(mcu.map((m) => m.latency.p95)), bare: median(bare.map((b) => b.latency.p95)) },
    fps: { mcu: median(mcu.map((m) => m.fps)), bare: median(bare.map((b) => b.fps)) },
    udpHopP50Ms: median(mcu.map((m) => m.udpHop.p50)),
    pipeMBps: {
      decodersWrite: io('decoders', 'writtenMBps'),
      sessionRead: io('session', 'readMBps'),
      sessionWrite: io('session', 'writtenMBps'),
      compositorsRead: io('compositors', 'readMBps'),
    },
    pipeHop: Object.fromEntries(
      (['direct', 'copy'] as const).map((read) => [
        read,
        {
          readerCores: median(pipe(read).map((p) => p.readerCores)),
          writerCores: median(pipe(read).map((p) => p.writerCores)),
          latencyP50: median(pipe(read).map((p) => p.latency.p50)),
          latencyP95: median(pipe(read).map((p) => p.latency.p95)),
        },
      ]),
    ),
    machine: {
      load1: median(pipelines.filter((p) => p.participants === n).map((p) => p.machine.load1)),
      otherCores: median(pipelines.filter((p) => p.participants === n).map((p) => p.machine.otherCores)),
    },
  };
});

const line = (cells: unknown[]): string => `| ${cells.map((c) => (c === null || c === undefined ? '–' : String(c))).join(' | ')} |`;
console.log(`\nCrossings, medians of ${repeats} runs (${machine.nproc} cores, ${machine.cpuModel}; load average at start ${machine.loadAverageAtStart.join(' ')})`);
console.log(line(['N', 'crossing', 'CPU (cores)', 'latency p50 / p95 ms', 'raw frame bytes', 'machine: load / other processes (cores)']));
console.log(line(['---', '---', '---', '---', '---', '---']));
for (const s of summary) {
  const busy = `${s.machine.load1} / ${s.machine.otherCores}`;
  const d = s.pipeHop.direct!;
  const c = s.pipeHop.copy!;
  console.log(line([s.participants, 'server → decoder (RTP, UDP loopback)', `relay ${s.mcuCoresByRole.relay}`, `${s.udpHopP50Ms} (one hop)`, 'none (compressed)', busy]));
  console.log(line([s.participants, 'decoder → session (pipe), read in place', `reader ${d.readerCores}`, `${d.latencyP50} / ${d.latencyP95}`, `${s.pipeMBps.decodersWrite} MB/s written, ${s.pipeMBps.sessionRead} MB/s read`, busy]));
  console.log(line([s.participants, 'decoder → session (pipe), read and copied (before)', `reader ${c.readerCores}`, `${c.latencyP50} / ${c.latencyP95}`, '+1 copy in the session', busy]));
  console.log(line([s.participants, 'session → compositor (pipe)', `writer ${d.writerCores}`, '(as above)', `${s.pipeMBps.sessionWrite} MB/s written, ${s.pipeMBps.compositorsRead} MB/s read`, busy]));
  console.log(line([s.participants, 'session process, all of it', s.mcuCoresByRole.session, '–', '–', busy]));
  console.log(line([s.participants, `MCU total (decoders ${s.mcuCoresByRole.decoders}, ${s.compositorsRunning} compositors ${s.mcuCoresByRole.compositors}, spawner ${s.mcuCoresByRole.spawner})`, s.mcuCores, `${s.latencyP50.mcu} / ${s.latencyP95.mcu} (${s.fps.mcu} fps)`, '4 copies per frame', busy]));
  console.log(line([s.participants, 'bare FFmpeg (one process)', s.bareCores, `${s.latencyP50.bare} / ${s.latencyP95.bare} (${s.fps.bare} fps)`, '0 copies', busy]));
  console.log(line([s.participants, 'MCU without the relay / bare', s.ratioWithoutRelay, '', '', busy]));
}

await mkdir('artifacts/bench', { recursive: true });
await writeFile(
  'artifacts/bench/crossings-latest.json',
  `${JSON.stringify({ at: new Date().toISOString(), command: process.argv.slice(1).join(' '), machine, options: { sizes, windowMs, repeats }, summary, pipes, pipelines }, null, 2)}\n`,
);
console.log('\nsaved artifacts/bench/crossings-latest.json');
