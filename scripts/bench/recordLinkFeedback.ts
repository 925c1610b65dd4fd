/**
 * Records what a real Chromium viewer tells the server about its link (REMB and receiver-report
 * loss, as the server's ladder hears them) while a token bucket on its downlink falls, rises,
 * flaps and dips, into test/fixtures/ladderFeedback/<scenario>.json. The unit test
 * `ladderFeedbackReplay` feeds these sequences to the estimator and the rung choice.
 *   MCU_SERVER_LOG_LEVEL=trace node --import tsx scripts/bench/recordLinkFeedback.ts [--out test/fixtures/ladderFeedback]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { z } from 'zod';
import { LadderRoom } from '../../test/helpers/ladderRoom.ts';
import { sleep } from '../lib/processes.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ROOM = 'feedback';

/** A step of the viewer's downlink: `kbps` (null: not shaped) for `seconds`, its queue `queueMs` (default 200). */
interface LinkStep {
  kbps: number | null;
  seconds: number;
  queueMs?: number;
}

/** Each scenario's steps follow the one before without a break: one viewer, one room. */
const SCENARIOS: { name: string; what: string; steps: LinkStep[] }[] = [
  { name: 'falling', what: 'unshaped, then 300 kbit/s', steps: [{ kbps: null, seconds: 8 }, { kbps: 300, seconds: 14 }] },
  { name: 'rising', what: '300 kbit/s, then 3 Mbit/s', steps: [{ kbps: 300, seconds: 4 }, { kbps: 3000, seconds: 28 }] },
  {
    name: 'flapping',
    what: '3 Mbit/s and 500 kbit/s in turn, 3 s each',
    steps: Array.from({ length: 10 }, (_, i) => ({ kbps: i % 2 === 0 ? 500 : 3000, seconds: 3 })),
  },
  {
    name: 'lossBurst',
    what: '3 Mbit/s with a 1 s dip to 200 kbit/s whose queue holds 20 ms (it drops rather than queues)',
    steps: [{ kbps: 3000, seconds: 12 }, { kbps: 200, seconds: 1, queueMs: 20 }, { kbps: 3000, seconds: 25 }],
  },
];

/** The server's trace line of one word from the browser (src/ladder/ViewerLadder.ts). */
const time = z.string().transform((iso) => Date.parse(iso));
const feedbackLine = z.object({ msg: z.literal('link feedback'), time, participant: z.string(), heard: z.string(), bytesSent: z.number() });
const decisionLine = z.looseObject({ msg: z.literal('ladder decision'), time, participant: z.string(), kind: z.string() });

export interface RecordedFeedback {
  scenario: string;
  what: string;
  recordedAt: string;
  loadAverage: number[];
  /** The downlink from each time on (ms from the scenario's start; kbps null: not shaped). */
  link: { t: number; kbps: number | null; queueMs?: number }[];
  /** The rung the viewer received when the scenario began (the one before left it there). */
  rungAtStart: number;
  /** Each word, with the bytes the server had sent the viewer (video and mix) when it came. */
  feedback: { t: number; heard: string; bytesSent: number }[];
  /** What the server decided then, for comparison. */
  decisions: { t: number; decision: Record<string, unknown> }[];
}

/**
 * The server's log lines of one participant's ladder: every word heard and every decision, with
 * their times. The bots receive the composite too, and have ladders of their own.
 */
function ladderLines(lines: readonly string[], participant: string): { feedback: z.infer<typeof feedbackLine>[]; decisions: z.infer<typeof decisionLine>[] } {
  const feedback: z.infer<typeof feedbackLine>[] = [];
  const decisions: z.infer<typeof decisionLine>[] = [];
  for (const text of lines) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      continue;
    }
    const word = feedbackLine.safeParse(json);
    if (word.success && word.data.participant === participant) feedback.push(word.data);
    const decision = decisionLine.safeParse(json);
    if (decision.success && decision.data.participant === participant) decisions.push(decision.data);
  }
  return { feedback, decisions };
}

async function main(o: { out: string }): Promise<void> {
  if (process.env.MCU_SERVER_LOG_LEVEL !== 'trace') throw new Error('run with MCU_SERVER_LOG_LEVEL=trace: the server logs the link feedback at trace level');
  const dir = await mkdtemp(join(tmpdir(), 'mcu-feedback-'));
  let room: LadderRoom | undefined;
  try {
    room = await LadderRoom.start({ tag: 'lfb', dir, room: ROOM, viewers: [{ name: 'viewer' }] });
    const windows: { scenario: (typeof SCENARIOS)[number]; from: number; to: number; link: RecordedFeedback['link'] }[] = [];
    for (const scenario of SCENARIOS) {
      const from = Date.now();
      const link: RecordedFeedback['link'] = [];
      for (const step of scenario.steps) {
        room.shape(0, step.kbps ?? undefined, step.queueMs);
        link.push({ t: Date.now() - from, kbps: step.kbps, ...(step.queueMs === undefined ? {} : { queueMs: step.queueMs }) });
        await sleep(step.seconds * 1000);
      }
      windows.push({ scenario, from, to: Date.now(), link });
      console.log(`${scenario.name}: ${scenario.what}, recorded`);
    }
    const viewer = (await room.viewers[0]!.probe.summary()).id;
    if (viewer === null) throw new Error('the viewer has no participant id');
    const lines = ladderLines(room.server?.logLines ?? [], viewer);
    const out = resolve(ROOT, o.out);
    await mkdir(out, { recursive: true });
    for (const { scenario, from, to, link } of windows) {
      const within = (time: number): boolean => time >= from && time < to;
      const feedback = lines.feedback.filter((w) => within(w.time)).map((w) => ({ t: w.time - from, heard: w.heard, bytesSent: w.bytesSent }));
      const decisions = lines.decisions
        .filter((d) => within(d.time))
        .map(({ time, msg: _msg, heard: _heard, level: _level, module: _module, participant: _participant, ...decision }) => ({ t: time - from, decision }));
      if (feedback.length === 0) throw new Error(`${scenario.name}: no link feedback in the server's log`);
      const before = lines.decisions.filter((d) => d.time < from && typeof d.rung === 'number').map((d) => d.rung as number);
      const recorded: RecordedFeedback = {
        scenario: scenario.name,
        what: scenario.what,
        recordedAt: new Date(from).toISOString(),
        loadAverage: loadavg(),
        link,
        rungAtStart: before.at(-1) ?? 0,
        feedback,
        decisions,
      };
      await writeFile(join(out, `${scenario.name}.json`), `${JSON.stringify(recorded, null, 1)}\n`);
      console.log(`${scenario.name}: ${feedback.length} words, ${decisions.length} decisions → ${join(o.out, `${scenario.name}.json`)}`);
    }
  } finally {
    await room?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const program = new Command()
  .name('record-link-feedback')
  .description("records a Chromium viewer's REMB and receiver reports while its shaped downlink falls, rises, flaps and dips")
  .option('--out <dir>', 'where the sequences go', 'test/fixtures/ladderFeedback')
  .action(async (o: { out: string }) => main(o));

program.parseAsync().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
