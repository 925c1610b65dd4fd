import type { RTCDtlsTransport } from 'werift';
import { createLogger } from '../../base/log/logger.ts';
import { TypedEmitter } from '../../base/TypedEmitter.ts';
import type { ViewerChain } from '../media/outgoing/ViewerChain.ts';
import type { OutgoingSource } from '../media/outgoing/ViewerStream.ts';
import { paddingSizes } from '../rtp/padding.ts';
import { DownlinkEstimator } from './DownlinkEstimator.ts';
import { onLinkFeedback } from './linkFeedback.ts';
import { RungChooser, type RungDecision } from './RungChooser.ts';

/** What a viewer's ladder needs of its room. */
export interface LadderRoom {
  /** The renditions of the composite, best first: a rung is an index into them. */
  readonly renditions: readonly OutgoingSource[];
  /** Bits per second each rung needs on a viewer's link (its video, the mix, RTP overhead). */
  readonly needs: readonly number[];
  /** The viewer now receives `rung` (undefined: no video, or it left): a rung nobody receives is not encoded. */
  receives(viewer: string, rung: number | undefined): void;
}

/** The viewer's peer as its ladder hears it: feedback from its browser about the SSRCs we send it. */
export interface ViewerLink {
  transport: RTCDtlsTransport;
  ssrcs(): ReadonlySet<number>;
}

/** One viewer's rung and what it is chosen from (the REST API's, the metrics', the page's). */
export interface ViewerLadderFigures {
  /** Index into the room's ladder; the ladder's length means audio only. */
  rung: number;
  /** The best rung the viewer allows (0: any). */
  cap: number;
  /** The browser's own estimate (REMB), bits per second. */
  estimateBps: number | undefined;
  sendingBps: number;
  /** Fraction of packets lost (0-1), over the last receiver reports. */
  loss: number;
  switchesUp: number;
  switchesDown: number;
}

export type ViewerLadderEvents = { change: [ViewerLadderFigures] };

const log = createLogger('ViewerLadder');

/** How often the chooser looks at the link besides each word from the browser. */
const UPDATE_MS = 200;
/** How many of the browser's last words a decision's log line carries. */
const RECENT_FEEDBACK = 12;
/** Padding of a probe goes out in slices this long (a burst would look like a queue to the browser). */
const PAD_SLICE_MS = 20;

export interface ViewerLadderOptions {
  viewer: string;
  /** The viewer's video chain (it moves between renditions) and what else its link carries (the mix). */
  video: ViewerChain;
  audio?: { readonly bytesSent: number };
  room: LadderRoom;
  now?: () => number;
}

/**
 * One viewer's place on the ladder: its browser's feedback into a DownlinkEstimator, the
 * RungChooser's decisions carried out on its video chain (switch at a keyframe, pause below the
 * last rung, padding for a probe). The I/O edge of src/ladder: the deciding is the chooser's.
 */
export class ViewerLadder extends TypedEmitter<ViewerLadderEvents> {
  readonly #o: ViewerLadderOptions;
  readonly #now: () => number;
  readonly #estimator = new DownlinkEstimator();
  readonly #chooser: RungChooser;
  readonly #unsubscribes: (() => void)[] = [];
  #timer: NodeJS.Timeout | undefined;
  #padTimer: NodeJS.Timeout | undefined;
  #bytesCounted = 0;
  readonly #recent: string[] = [];
  #closed = false;

  constructor(options: ViewerLadderOptions) {
    super();
    this.#o = options;
    this.#now = options.now ?? (() => performance.now());
    this.#chooser = new RungChooser({ needs: options.room.needs }, this.#estimator, this.#now());
    this.#bytesCounted = this.#bytesSent();
    options.video.onSwitched = () => this.#chooser.switched(this.#now());
    options.room.receives(options.viewer, 0);
  }

  /** Starts listening to the viewer's browser. */
  connect(link: ViewerLink): void {
    if (this.#closed || this.#timer) return;
    this.#unsubscribes.push(
      onLinkFeedback(link.transport, () => link.ssrcs(), {
        remb: (now, bps) => {
          this.#heard(now, `remb ${Math.round(bps / 1000)}k`);
          this.#estimator.remb(now, bps);
          this.#update();
        },
        receiverReport: (now, fractionLost) => {
          this.#heard(now, `lost ${fractionLost}/256`);
          this.#estimator.receiverReport(now, fractionLost);
        },
      }, this.#now),
    );
    this.#timer = setInterval(() => this.#update(), UPDATE_MS);
    this.#timer.unref();
  }

  get rung(): number {
    return this.#chooser.rung;
  }

  /** The viewer's own limit: the best rung it wants (0: any). */
  setCap(cap: number): void {
    if (this.#closed) return;
    const decision = this.#chooser.setCap(this.#now(), cap);
    if (decision) this.#apply(decision);
    else this.safeEmit('change', this.figures());
  }

  figures(): ViewerLadderFigures {
    const estimate = this.#estimator.estimate(this.#now());
    return {
      rung: this.#chooser.rung,
      cap: this.#chooser.cap,
      estimateBps: estimate.remb,
      sendingBps: Math.round(estimate.sendingBps),
      loss: estimate.loss,
      switchesUp: this.#chooser.switchesUp,
      switchesDown: this.#chooser.switchesDown,
    };
  }

  /** Stops listening and deciding (the viewer left). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    clearInterval(this.#padTimer);
    for (const unsubscribe of this.#unsubscribes.splice(0)) unsubscribe();
    this.#o.room.receives(this.#o.viewer, undefined);
    this.removeAllListeners();
  }

  /** The browser's last words, for the log of a decision. */
  #heard(now: number, what: string): void {
    // MCU_LOG_LEVEL=trace records every word with the bytes sent so far: a link to replay in a
    // test (test/fixtures/ladderFeedback/).
    log.trace({ participant: this.#o.viewer, at: Math.round(now), heard: what, bytesSent: this.#bytesSent() }, 'link feedback');
    this.#recent.push(`${Math.round(now)} ${what}`);
    if (this.#recent.length > RECENT_FEEDBACK) this.#recent.shift();
  }

  #bytesSent(): number {
    return this.#o.video.bytesSent + (this.#o.audio?.bytesSent ?? 0);
  }

  #update(): void {
    if (this.#closed) return;
    const now = this.#now();
    const bytes = this.#bytesSent();
    this.#estimator.sent(now, bytes - this.#bytesCounted);
    this.#bytesCounted = bytes;
    const estimate = this.#estimator.estimate(now);
    const decision = this.#chooser.update(now);
    if (!decision) return;
    const { remb, capacityBps, sendingBps, loss } = estimate;
    log.info({ participant: this.#o.viewer, ...decision, remb, capacityBps, sendingBps: Math.round(sendingBps), loss, heard: this.#recent }, 'ladder decision');
    this.#apply(decision);
  }

  #apply(decision: RungDecision): void {
    const { video, room, viewer } = this.#o;
    if (decision.kind === 'probe') return this.#probe(decision.bps, decision.forMs);
    clearInterval(this.#padTimer);
    const rendition = room.renditions[decision.rung];
    if (rendition) {
      room.receives(viewer, decision.rung);
      // At the rung's next keyframe: they come every keyframe interval (2 s), on every rung at
      // once. One asked for would restart the compositor, and every viewer would get a keyframe.
      video.switchTo(rendition);
    } else {
      video.pause();
      room.receives(viewer, undefined);
    }
    this.safeEmit('change', this.figures());
  }

  /** Padding at `bps` for `forMs`, a slice at a time, bounded by its count. */
  #probe(bps: number, forMs: number): void {
    clearInterval(this.#padTimer);
    const sizes = paddingSizes(bps, PAD_SLICE_MS);
    let slices = Math.ceil(forMs / PAD_SLICE_MS);
    this.#padTimer = setInterval(() => {
      if (this.#closed || --slices < 0 || !this.#chooser.probing) return clearInterval(this.#padTimer);
      this.#o.video.pad(sizes);
    }, PAD_SLICE_MS);
  }
}
