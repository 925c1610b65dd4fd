import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LADDER } from '../../mixer/logic/ladder.ts';
import { SESSION_DEFAULTS } from '../../mixer/SessionTypes.ts';
import type { RecordedFeedback } from '../../scripts/bench/recordLinkFeedback.ts';
import { DownlinkEstimator } from '../../src/ladder/DownlinkEstimator.ts';
import { RungChooser, rungNeeds } from '../../src/ladder/RungChooser.ts';

// What a real Chromium viewer said about its link (REMB, receiver-report loss) while a token
// bucket on its downlink fell, rose, flapped and dipped, recorded from the server's log by
// scripts/bench/recordLinkFeedback.ts, replayed into the estimator and the rung choice with the
// recorded times. The words answer what the server sent then, not what this replay chooses: the
// replay asks whether the choice reads them as the live server did.

const NEEDS = rungNeeds(DEFAULT_LADDER, SESSION_DEFAULTS.audioBitrateKbps);
const LOWEST = NEEDS.length - 1;
const AUDIO_ONLY = NEEDS.length;
/** The viewer's chain moves at the new rung's next keyframe: every 2 s on every rung. */
const KEYFRAME_MS = SESSION_DEFAULTS.keyframeIntervalSeconds * 1000;
/** The server's ViewerLadder also decides every 200 ms between words. */
const TICK_MS = 200;

function recording(name: string): RecordedFeedback {
  return JSON.parse(readFileSync(new URL(`../fixtures/ladderFeedback/${name}.json`, import.meta.url), 'utf8')) as RecordedFeedback;
}

interface Replay {
  /** The rung received, at each change (t in ms from the recording's start). */
  received: { t: number; rung: number }[];
  chooser: RungChooser;
  end: number;
}

function replay(rec: RecordedFeedback): Replay {
  const estimator = new DownlinkEstimator();
  const start = rec.feedback[0]!.t;
  const end = rec.feedback.at(-1)!.t;
  const chooser = new RungChooser({ needs: NEEDS, rung: rec.rungAtStart }, estimator, start);
  const received = [{ t: start, rung: rec.rungAtStart }];
  let bytes = rec.feedback[0]!.bytesSent;
  let word = 0;
  let switchAt: number | undefined;
  const decide = (now: number): void => {
    if (switchAt !== undefined && now >= switchAt) {
      switchAt = undefined;
      chooser.switched(now);
      received.push({ t: now, rung: chooser.rung });
    }
    const decision = chooser.update(now);
    if (decision?.kind !== 'switch') return;
    if (decision.rung === AUDIO_ONLY) {
      chooser.switched(now);
      received.push({ t: now, rung: AUDIO_ONLY });
    } else switchAt = Math.ceil((now + 1) / KEYFRAME_MS) * KEYFRAME_MS;
  };
  for (let tick = start; tick <= end; tick += TICK_MS) {
    for (; word < rec.feedback.length && rec.feedback[word]!.t <= tick; word++) {
      const { t, heard, bytesSent } = rec.feedback[word]!;
      estimator.sent(t, bytesSent - bytes);
      bytes = bytesSent;
      const remb = /^remb (\d+)k$/.exec(heard);
      const lost = /^lost (\d+)\/256$/.exec(heard);
      if (remb) {
        estimator.remb(t, Number(remb[1]) * 1000);
        decide(t);
      } else if (lost) estimator.receiverReport(t, Number(lost[1]));
    }
    decide(tick);
  }
  return { received, chooser, end };
}

/** The rung received at `t`. */
const rungAt = (r: Replay, t: number): number => r.received.filter((c) => c.t <= t).at(-1)!.rung;
const firstAt = (r: Replay, from: number, rung: (n: number) => boolean): number | undefined => r.received.find((c) => c.t >= from && rung(c.rung))?.t;

describe('the rung choice on link feedback recorded from Chromium', () => {
  it('a falling link (unshaped, then 300 kbit/s): the lowest rung within 5 s, kept, never audio only', () => {
    const rec = recording('falling');
    const fall = rec.link[1]!.t;
    const r = replay(rec);
    expect(rungAt(r, fall - 1)).toBe(0);
    const lowest = firstAt(r, fall, (n) => n === LOWEST);
    expect(lowest, JSON.stringify(r.received)).toBeDefined();
    expect(lowest! - fall).toBeLessThan(5000);
    expect(rungAt(r, r.end)).toBe(LOWEST);
    expect(r.received.some((c) => c.rung === AUDIO_ONLY)).toBe(false);
  });

  // Recorded at load average 7, the live server then took 24 s: Chromium's estimate had sunk to
  // 114 kbit/s on the 300 kbit/s link and climbs 8 % a second, and the server waited for it to
  // pass what it sent before the first probe. Clean receiver reports and a REMB that climbs now
  // count as headroom (DownlinkEstimator's climbMs).
  it('a rising link (300 kbit/s, then 3 Mbit/s): back on 720p within 20 s of the opening', () => {
    const rec = recording('rising');
    const open = rec.link[1]!.t;
    const r = replay(rec);
    const top = firstAt(r, open, (n) => n === 0);
    expect(top, JSON.stringify(r.received)).toBeDefined();
    console.log(`rising link: 720p ${((top! - open) / 1000).toFixed(1)} s after the opening; ${JSON.stringify(r.received)}`);
    expect(top! - open).toBeLessThan(20_000);
    expect(rungAt(r, r.end)).toBe(0);
  });

  it('a flapping link (500 kbit/s and 3 Mbit/s in turn, 3 s each): few switches, never audio only', () => {
    const r = replay(recording('flapping'));
    const switches = r.received.length - 1;
    expect(switches, JSON.stringify(r.received)).toBeLessThanOrEqual(6);
    expect(r.received.some((c) => c.rung === AUDIO_ONLY)).toBe(false);
  });

  it('a loss burst (a 1 s dip to 200 kbit/s on a 3 Mbit/s link): never audio only', () => {
    const r = replay(recording('lossBurst'));
    expect(r.received.some((c) => c.rung === AUDIO_ONLY), JSON.stringify(r.received)).toBe(false);
  });

  // In the recording the live server left the viewer on 360p for over 25 s after the dip (its
  // first probe came 22 s after it), for the reason the rising link gives.
  it('a loss burst (a 1 s dip to 200 kbit/s on a 3 Mbit/s link): never audio only, and back on 720p', () => {
    const rec = recording('lossBurst');
    const r = replay(rec);
    expect(r.received.some((c) => c.rung === AUDIO_ONLY), JSON.stringify(r.received)).toBe(false);
    const back = firstAt(r, rec.link[1]!.t, (n) => n === 0);
    console.log(`loss burst: 720p again ${back === undefined ? 'never' : `${((back - rec.link[1]!.t) / 1000).toFixed(1)} s after the dip`}; ${JSON.stringify(r.received)}`);
    expect(rungAt(r, r.end)).toBe(0);
  });
});
