/** One viewer's downlink as far as its browser tells it. */
export interface DownlinkEstimate {
  /** The browser's own estimate (REMB), bits per second; undefined until it says or once it is old. */
  remb: number | undefined;
  /** The fraction of packets lost (0-1), averaged over the recent receiver reports. */
  loss: number;
  /** Bits per second sent to this viewer over the last second. */
  sendingBps: number;
  /**
   * What the link carried when it last showed congestion (a REMB that fell, or loss over
   * `highLoss`), bits per second; undefined when it has shown none lately.
   */
  capacityBps: number | undefined;
  /** The link carries less than is sent: step down. */
  congested: boolean;
  /**
   * REMB sits near its ceiling (the browser says at most about 1.5 times what arrives) with no
   * loss: nothing holds the stream back, and the link may carry more than the browser can say.
   */
  headroom: boolean;
}

export interface DownlinkEstimatorOptions {
  /** Receiver reports older than this no longer count towards the loss. */
  lossWindowMs: number;
  /** Over this loss the link is congested (GCC's loss rule: 10 %). */
  highLoss: number;
  /** Under this loss, REMB near its ceiling counts as headroom. */
  lowLoss: number;
  /** The window the sending rate is measured over. */
  rateWindowMs: number;
  /**
   * REMB at least this many times the sending rate counts as headroom. Low: it only says that
   * nothing holds the stream back now (REMB climbs slowly, and never says much more than what
   * arrives); whether the link carries the next rung is the probe's to find out.
   */
  headroomRatio: number;
  /** A REMB this much below the one before it is a fall (Chromium sends one at once on a 3 % drop). */
  fallRatio: number;
  /** How long a fall counts as the link's latest word. */
  fallMemoryMs: number;
  /** A REMB this old is forgotten. */
  rembMaxAgeMs: number;
  /** Congested: the capacity is under this share of the sending rate. */
  shortfall: number;
  /**
   * A REMB that has climbed by `climbRatio` over this long without a fall, with clean receiver
   * reports, counts as headroom even below `headroomRatio`: after a weak spell Chromium's
   * estimate sits low and climbs 8 % a second once nothing holds the stream back, and waiting for
   * it to pass what is sent held a viewer on a small rung for 20 s after its link opened. A REMB
   * that stays low (Chromium still sees queues: a weak link, a starved machine) does not climb.
   */
  climbMs: number;
  climbRatio: number;
}

export const DOWNLINK_ESTIMATOR_DEFAULTS: DownlinkEstimatorOptions = {
  lossWindowMs: 2000,
  highLoss: 0.1,
  lowLoss: 0.02,
  rateWindowMs: 1000,
  headroomRatio: 1.15,
  fallRatio: 0.97,
  fallMemoryMs: 1000,
  rembMaxAgeMs: 5000,
  shortfall: 0.9,
  climbMs: 3000,
  climbRatio: 1.15,
};

/**
 * Chromium's answer to overuse: its estimate becomes 0.85 of the rate it receives. A REMB that
 * fell says what arrived, divided back.
 */
const OVERUSE_BACKOFF = 0.85;
/**
 * A receiver report that comes this soon after a change of rate may speak of packets sent
 * before it: Chromium reports about once a second, on what arrived since its last report.
 */
const REPORT_LAG_MS = 1200;

/** Packets of one slot are counted together: a viewer gets hundreds a second. */
const SENT_SLOT_MS = 50;

/**
 * Turns what a viewer's browser reports into an estimate of its downlink. Chromium sends REMB (its
 * receive-side estimate) for video that has no transport-wide-cc extension: it falls at once when
 * queues build, and rises slowly, about 8 % a second and never above 1.5 times what arrives. So a
 * low REMB is not a weak link (it is still climbing after a join or a step up); a REMB that falls
 * is: it then says what arrived. Receiver reports give the loss: a link that drops packets without
 * queueing (a policer) shows there, not in REMB. Pure: the caller passes the time.
 */
export class DownlinkEstimator {
  readonly #options: DownlinkEstimatorOptions;
  /** The browser's last REMB; never cleared, so it also says whether this browser sends REMB at all. */
  #remb: { bps: number; at: number } | undefined;
  #fall: { capacity: number; at: number } | undefined;
  /** The REMBs of the last `climbMs` and one before (see climbing()); a fall clears them. */
  #rembs: { bps: number; at: number }[] = [];
  #losses: { at: number; fraction: number }[] = [];
  #sent: { at: number; bytes: number }[] = [];
  #lastReportAt: number | undefined;
  /** When the rate last changed (forgetCongestion). */
  #since = -Infinity;

  constructor(options: Partial<DownlinkEstimatorOptions> = {}) {
    this.#options = { ...DOWNLINK_ESTIMATOR_DEFAULTS, ...options };
  }

  /** A REMB from the browser: `bps` is what it estimates it can receive. */
  remb(now: number, bps: number): void {
    if (!Number.isFinite(bps) || bps < 0) return;
    const previous = this.#remb;
    if (previous && now - previous.at <= this.#options.rembMaxAgeMs && bps < previous.bps * this.#options.fallRatio) {
      this.#fall = { capacity: bps / OVERUSE_BACKOFF, at: now };
      this.#rembs = [];
    }
    this.#remb = { bps, at: now };
    this.#rembs.push(this.#remb);
    while (this.#rembs.length > 1 && this.#rembs[1]!.at <= now - this.#options.climbMs) this.#rembs.shift();
  }

  /** A receiver report block for a stream this viewer receives: `fractionLost` as sent (0-255). */
  receiverReport(now: number, fractionLost: number): void {
    // A report's loss is of the packets since the one before it: one that began before a
    // switch speaks of the old rate.
    // The first one speaks of the join too.
    const spansSwitch = this.#lastReportAt === undefined || now - this.#since < REPORT_LAG_MS;
    this.#lastReportAt = now;
    if (!spansSwitch) this.#losses.push({ at: now, fraction: Math.min(255, Math.max(0, fractionLost)) / 256 });
    this.#forget(now);
  }

  /** `bytes` of RTP sent to this viewer at `now` (video, audio, padding). */
  sent(now: number, bytes: number): void {
    const last = this.#sent.at(-1);
    if (last && now - last.at < SENT_SLOT_MS) last.bytes += bytes;
    else this.#sent.push({ at: now, bytes });
    this.#forget(now);
  }

  /** Forgets what was said of the link at the old rate: the rate changed at `now` (a switch). */
  forgetCongestion(now: number): void {
    this.#fall = undefined;
    this.#losses = [];
    this.#since = now;
  }

  estimate(now: number): DownlinkEstimate {
    this.#forget(now);
    const o = this.#options;
    const sendingBps = (this.#sent.reduce((sum, s) => sum + s.bytes, 0) * 8 * 1000) / o.rateWindowMs;
    const loss = this.#losses.length === 0 ? 0 : this.#losses.reduce((sum, l) => sum + l.fraction, 0) / this.#losses.length;
    const remb = this.#remb && now - this.#remb.at <= o.rembMaxAgeMs ? this.#remb.bps : undefined;
    const fallen = this.#fall && now - this.#fall.at <= o.fallMemoryMs ? this.#fall.capacity : undefined;
    // Two reports at least: one alone may be a burst the queue dropped while the rate changed.
    const lossy = loss > o.highLoss && this.#losses.length >= 2 ? sendingBps * (1 - loss) : undefined;
    const capacityBps = fallen === undefined ? lossy : lossy === undefined ? fallen : Math.min(fallen, lossy);
    const congested = capacityBps !== undefined && capacityBps < sendingBps * o.shortfall;
    // Two receiver reports since the last change that found the link clean are headroom for a
    // client that sends no REMB (a bot, a werift peer: else one loss burst would hold it down for
    // good), and for one whose REMB climbs (see climbMs).
    const clean = capacityBps === undefined && loss < o.lowLoss && sendingBps > 0;
    const cleanReports = clean && this.#losses.length >= 2;
    const rembSays = remb !== undefined && remb >= sendingBps * o.headroomRatio;
    const headroom = clean && (this.#remb === undefined ? cleanReports : rembSays || (cleanReports && remb !== undefined && this.#climbing(now)));
    return { remb, loss, sendingBps, capacityBps, congested, headroom };
  }

  /** REMB rose by climbRatio over the last climbMs, with no fall. */
  #climbing(now: number): boolean {
    const from = this.#rembs[0];
    return from !== undefined && from.at <= now - this.#options.climbMs && this.#remb!.bps >= from.bps * this.#options.climbRatio;
  }

  #forget(now: number): void {
    const lossFrom = now - this.#options.lossWindowMs;
    while (this.#losses.length > 0 && this.#losses[0]!.at < lossFrom) this.#losses.shift();
    const rateFrom = now - this.#options.rateWindowMs;
    while (this.#sent.length > 0 && this.#sent[0]!.at <= rateFrom) this.#sent.shift();
  }
}
