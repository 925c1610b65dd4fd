import type { AudioLevel } from './audioLevel.ts';

export interface SilenceGateOptions {
  /** A packet at least this loud (RFC 6464 -dBov: lower is louder) is sound; quieter, silence. */
  soundDbov: number;
  /** Sound is followed by this much more audio, held back or not: a voice's tail, and a pause. */
  hangoverMs: number;
  /**
   * While held back, one packet in this many still goes on: FFmpeg's SDP input ends after 10 s
   * without a packet (measured: the decoder exited 21 s after starting with none), and a
   * restarted decoder costs far more than a packet decoded every 2 s.
   */
  keepaliveEvery: number;
}

export const SILENCE_GATE_DEFAULTS: SilenceGateOptions = {
  // 10 dB under the speaker detection's floor (-50 dBFS): whatever it could call a voice passes.
  soundDbov: 60,
  hangoverMs: 1000,
  keepaliveEvery: 100,
};

/**
 * Which of a publisher's audio packets its decoder gets, from the level the publisher stamps on
 * each (RFC 6464). In a room most people are silent, and the mix takes only the speakers
 * (TopSpeakers): decoding the silence of everyone else is work for nothing. A packet without a
 * level counts as sound. What passes is renumbered (`seq`) so that the decoder sees one unbroken
 * sequence: FFmpeg's RTP input holds packets after a gap in the numbers, waiting for the missing
 * ones, and drops as old whatever is more than 32767 behind. The timestamps keep their jump:
 * the decoder writes no audio for the held time, which the mix takes as silence. Pure: the
 * caller passes the time.
 */
export class SilenceGate {
  readonly #o: SilenceGateOptions;
  #soundAt = -Infinity;
  /** Packets held back so far, modulo 2^16: what every later sequence number is lowered by. */
  #held = 0;
  #heldInARow = 0;
  /** Packets held back since the start. */
  heldTotal = 0;
  /** Whether the stream is being held back now (silence past the hangover). */
  closed = false;

  constructor(options: Partial<SilenceGateOptions> = {}) {
    this.#o = { ...SILENCE_GATE_DEFAULTS, ...options };
  }

  /** Whether a packet with this level goes to the decoder now. */
  admit(level: AudioLevel | undefined, now: number): boolean {
    // The first second passes whatever it holds: the decoder starts on it.
    if (this.#soundAt === -Infinity) this.#soundAt = now;
    if (level === undefined || level.voice || level.dBov <= this.#o.soundDbov) this.#soundAt = now;
    this.closed = now - this.#soundAt > this.#o.hangoverMs;
    if (!this.closed || ++this.#heldInARow >= this.#o.keepaliveEvery) {
      this.#heldInARow = 0;
      return true;
    }
    this.#held = (this.#held + 1) & 0xffff;
    this.heldTotal++;
    return false;
  }

  /** The sequence number a passed packet goes on with. */
  seq(original: number): number {
    return (original - this.#held) & 0xffff;
  }
}
