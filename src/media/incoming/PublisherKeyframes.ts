import type { DecoderKeyframeNeed } from '../../../mixer/SessionTypes.ts';

/**
 * Why a publisher's video needs a keyframe. The session reports its decoder's needs (waiting for
 * its first picture, stalled, restarted or moved to a new size); the server's frame gate reports
 * a loss it gave up on, and its decoder-lag check a decoder that fell behind.
 */
export type KeyframeReason = DecoderKeyframeNeed | 'loss' | 'lag';

/**
 * After a keyframe request (PLI) of any reason, the next one for each reason waits at least this
 * long: one PLI in flight answers them all. A gate dropping frames asks often (its frames keep
 * coming broken); a decoder without a first picture asks every half second (the keyframe may have
 * come before it listened); a stalled one every second; a decoder that has just started cannot
 * wait.
 */
export const KEYFRAME_REQUEST_GAP_MS: Readonly<Record<KeyframeReason, number>> = {
  loss: 300,
  lag: 300,
  firstframe: 500,
  stalled: 1000,
  restarted: 0,
};

/**
 * The one decider of a publisher's keyframe requests: every reason comes here, and each PLI
 * sent is counted once. Pure: the caller passes the time and sends the PLI when told to.
 */
export class PublisherKeyframes {
  #lastAt = -Infinity;
  /** PLIs sent to this publisher. */
  sent = 0;

  /** A need at `now`: true when a PLI is to be sent now (it is counted). */
  need(reason: KeyframeReason, now: number): boolean {
    if (now - this.#lastAt < KEYFRAME_REQUEST_GAP_MS[reason]) return false;
    this.#lastAt = now;
    this.sent++;
    return true;
  }
}
