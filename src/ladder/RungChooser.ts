import type { DownlinkEstimate, DownlinkEstimator } from './DownlinkEstimator.ts';

/**
 * What a viewer's chain does next: receive another rung (an index into the ladder, best first;
 * the ladder's length means audio only: the video pauses on its last picture), or send padding at
 * `bps` for `forMs` to see whether the link carries the next rung up before moving there.
 */
export type RungDecision =
  | { kind: 'switch'; rung: number; reason: 'down' | 'revert' | 'trial' | 'cap' }
  | { kind: 'probe'; bps: number; forMs: number };

export interface RungChooserOptions {
  /** Bits per second each rung needs on the link (its video, the mix, RTP overhead), best first. */
  needs: readonly number[];
  /** The rung received at first (0, the top, unless a replay starts elsewhere). */
  rung: number;
  /**
   * The share of a congested link's capacity a rung may take after a step down. The capacity is
   * what arrived while the link was congested, and a rung's need is its encoder's ceiling with
   * the mix and overhead on top (its stream is mostly below it): all of it.
   */
  utilization: number;
  /** After a switch, this long before the link's word counts again (it spoke of the old rate). */
  settleMs: number;
  /** A rung is held this long after a step down before trying the next one up. */
  holdMs: number;
  /** The hold doubles after each failed probe or trial, up to this. */
  maxHoldMs: number;
  /** How long a probe sends padding. */
  probeMs: number;
  /** After a probe, this long for the browser's word on it. */
  probeVerdictMs: number;
  /** A rung reached by a probe is kept once the link has carried it this long. */
  trialMs: number;
  /** Loss over this during a probe or a trial fails it. */
  trialLoss: number;
  /**
   * The video pauses (audio only) only when the link carries less than this share of the lowest
   * rung's need: a rung's stream is mostly below its encoder's ceiling, and a paused picture is
   * worse than a small one that stutters now and then.
   */
  floorShare: number;
  /** Loss over this on the lowest rung pauses the video. */
  pauseLoss: number;
}

/** RTP, SRTP and UDP headers on top of what the encoders are asked for (measured: 5-10 %). */
const LINK_OVERHEAD = 1.1;

/** Bits per second each rung needs on a viewer's link: its video and the mix, with their headers. */
export function rungNeeds(ladder: readonly { kbps: number }[], audioKbps: number): number[] {
  return ladder.map((rung) => (rung.kbps + audioKbps) * 1000 * LINK_OVERHEAD);
}

/**
 * The video pauses only on a second verdict within this long of the first: one fall of the
 * browser's estimate may be a stall of the server's (a burst after it looks like a queue), and a
 * paused picture is the most a viewer can lose.
 */
const PAUSE_CONFIRM_MS = 6000;

/** A move not made by then (no keyframe came from the new rung) no longer holds the link's word back. */
const MAX_PENDING_MS = 4000;

export const RUNG_CHOOSER_DEFAULTS: Omit<RungChooserOptions, 'needs'> = {
  rung: 0,
  utilization: 1,
  settleMs: 2000,
  holdMs: 4000,
  maxHoldMs: 8000,
  probeMs: 600,
  probeVerdictMs: 600,
  trialMs: 4000,
  trialLoss: 0.05,
  floorShare: 0.6,
  pauseLoss: 0.2,
};

/**
 * Chooses the rung one viewer receives, from its DownlinkEstimator. Down fast: on congestion it
 * moves at once to the best rung that fits the capacity the browser reported. Up only with
 * evidence, since REMB cannot say more than about 1.5 times what arrives: after a hold, it sends
 * padding up to the next rung's need (a probe); if the link carries it (no fall, no loss) it moves
 * up and keeps the rung once the link has carried it for `trialMs` (a trial), else it goes back
 * and holds twice as long (up to `maxHoldMs`, so that a link that opens is climbed within
 * seconds). A cap (the viewer's own choice) bounds it from above. Pure: the caller passes time.
 */
export class RungChooser {
  readonly #o: RungChooserOptions;
  readonly #link: DownlinkEstimator;
  #rung: number;
  #cap = 0;
  #changedAt: number;
  /** A move decided and not yet made (the viewer's chain waits for the new rung's keyframe). */
  #pendingSince: number | undefined;
  #hold: number;
  #holdUntil: number;
  #probe: { until: number; verdictAt: number } | undefined;
  #trial: { from: number; until: number } | undefined;
  /** The first verdict that the lowest rung does not fit either (see PAUSE_CONFIRM_MS). */
  #pauseFirstAt: number | undefined;
  switchesUp = 0;
  switchesDown = 0;

  /** `link`: the viewer's estimator; told of each change of rate (what it hears then is of the old one). */
  constructor(options: Partial<Omit<RungChooserOptions, 'needs'>> & Pick<RungChooserOptions, 'needs'>, link: DownlinkEstimator, now: number) {
    this.#o = { ...RUNG_CHOOSER_DEFAULTS, ...options };
    this.#link = link;
    if (this.#o.needs.length === 0) throw new RangeError('a ladder has at least one rung');
    this.#rung = this.#o.rung;
    this.#changedAt = now;
    this.#hold = this.#o.holdMs;
    this.#holdUntil = now;
  }

  /** The rung received now (`audioOnly` when it equals the number of rungs). */
  get rung(): number {
    return this.#rung;
  }

  /** The best rung the viewer allows (0: any). */
  get cap(): number {
    return this.#cap;
  }

  get audioOnly(): number {
    return this.#o.needs.length;
  }

  /** A probe is under way or waits for its verdict: the chain sends padding. */
  get probing(): boolean {
    return this.#probe !== undefined;
  }

  /** The viewer now receives the rung it was moved to (its chain switched at a keyframe). */
  switched(now: number): void {
    if (this.#pendingSince === undefined) return;
    this.#pendingSince = undefined;
    this.#changedAt = now;
    this.#link.forgetCongestion(now);
  }

  /** The best rung the viewer allows (0: any); from its data-saver choice. */
  setCap(now: number, cap: number): RungDecision | undefined {
    this.#cap = Math.max(0, Math.min(Math.trunc(cap), this.audioOnly));
    if (this.#rung >= this.#cap) return undefined;
    this.#probe = undefined;
    this.#trial = undefined;
    return this.#switch(now, this.#cap, 'cap');
  }

  /** Called after each word from the browser (REMB, receiver report) and every few hundred ms. */
  update(now: number): RungDecision | undefined {
    const o = this.#o;
    const estimate = this.#link.estimate(now);
    // Until the move is made the viewer still receives the old rung: what the link says is of it.
    const pending = this.#pendingSince !== undefined && now - this.#pendingSince < MAX_PENDING_MS;
    const settled = !pending && now - this.#changedAt >= o.settleMs;
    const failing = estimate.congested || ((this.#trial !== undefined || this.#probe !== undefined) && estimate.loss > o.trialLoss);
    if (failing && (settled || this.#probe)) return this.#stepDown(now, estimate);
    if (this.#probe) {
      if (now < this.#probe.verdictAt) return undefined;
      this.#probe = undefined;
      this.#link.forgetCongestion(now);
      this.#trial = { from: this.#rung, until: now + o.trialMs };
      return this.#switch(now, this.#rung - 1, 'trial');
    }
    if (this.#trial) {
      if (now >= this.#trial.until) {
        this.#trial = undefined;
        this.#hold = o.holdMs;
      }
      return undefined;
    }
    const mayClimb = this.#rung > this.#cap && now >= this.#holdUntil && settled;
    const evidence = estimate.headroom || this.#rung === this.audioOnly;
    if (!mayClimb || !evidence || estimate.loss > o.trialLoss) return undefined;
    this.#probe = { until: now + o.probeMs, verdictAt: now + o.probeMs + o.probeVerdictMs };
    // Nothing to forget (a climb needs a clean link), and the reports that come during the probe
    // are its verdict: forgetting here marked them as spanning a change of rate and dropped them,
    // so a probe that lost half its packets passed (bench run 14:14, 800 kbit/s).
    return { kind: 'probe', bps: Math.max(0, o.needs[this.#rung - 1]! - estimate.sendingBps), forMs: o.probeMs };
  }

  #stepDown(now: number, estimate: DownlinkEstimate): RungDecision | undefined {
    const o = this.#o;
    const failedProbe = this.#probe !== undefined;
    const failedTry = failedProbe || this.#trial !== undefined;
    const from = this.#trial?.from ?? this.#rung + 1;
    this.#trial = undefined;
    this.#probe = undefined;
    this.#hold = failedTry ? Math.min(this.#hold * 2, o.maxHoldMs) : o.holdMs;
    this.#holdUntil = now + this.#hold;
    if (failedProbe) {
      // The padding made the queue: it stops, and the rung that fitted before it still does. What
      // the browser said during the probe was of the padding; the link speaks again once it drains.
      this.#changedAt = now;
      this.#link.forgetCongestion(now);
      return undefined;
    }
    const budget = (estimate.capacityBps ?? estimate.sendingBps * (1 - estimate.loss)) * o.utilization;
    const lowest = this.audioOnly - 1;
    let target = Math.min(lowest, Math.max(from, this.#cap));
    while (target < lowest && o.needs[target]! > budget) target++;
    // Below the lowest rung only when the link is far from carrying it; nothing is below audio
    // only (congestion there, the mix's loss, leaves it where it is).
    const farFromLowest =
      o.needs[target]! * o.floorShare > budget ||
      // A link that loses this much of the lowest rung shows broken pictures: better none.
      (this.#rung === lowest && estimate.loss > o.pauseLoss);
    // A failed trial out of the pause goes back to it at once: the trial was the second word.
    if (this.#cap === this.audioOnly || this.#rung === this.audioOnly || (failedTry && from === this.audioOnly)) target = this.audioOnly;
    else if (farFromLowest) target = this.#confirmPause(now) ? this.audioOnly : lowest;
    if (target === this.#rung) {
      this.#changedAt = now;
      this.#link.forgetCongestion(now);
      return undefined;
    }
    return this.#switch(now, target, failedTry && target === from ? 'revert' : 'down');
  }

  /** Whether the video pauses now: on the second such verdict within PAUSE_CONFIRM_MS. */
  #confirmPause(now: number): boolean {
    const confirmed = this.#pauseFirstAt !== undefined && now > this.#pauseFirstAt && now - this.#pauseFirstAt <= PAUSE_CONFIRM_MS;
    this.#pauseFirstAt = confirmed ? undefined : now;
    return confirmed;
  }

  #switch(now: number, rung: number, reason: 'down' | 'revert' | 'trial' | 'cap'): RungDecision {
    if (rung < this.#rung) this.switchesUp++;
    else this.switchesDown++;
    this.#rung = rung;
    this.#changedAt = now;
    // Audio only is reached at once (the video just stops).
    this.#pendingSince = rung < this.audioOnly ? now : undefined;
    this.#link.forgetCongestion(now);
    return { kind: 'switch', rung, reason };
  }
}
