import type { LinkClock } from '../../src/media/incoming/PublishedStream.ts';

export interface RtpFields {
  ssrc?: number;
  seq: number;
  ts?: number;
  marker?: boolean;
  /** The payload, after the fixed header. */
  payload?: Buffer;
  /** Header extension bytes (profile, length and elements), put after the fixed header with X=1. */
  extension?: Buffer;
}

/** An RTP packet (RFC 3550 §5.1), V=2 PT=96. */
export function rtp({ ssrc = 1, seq, ts = 0, marker = true, payload = Buffer.alloc(1), extension }: RtpFields): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80 | (extension ? 0x10 : 0);
  header[1] = (marker ? 0x80 : 0) | 96;
  header.writeUInt16BE(seq & 0xffff, 2);
  header.writeUInt32BE(ts >>> 0, 4);
  header.writeUInt32BE(ssrc >>> 0, 8);
  return Buffer.concat([header, extension ?? Buffer.alloc(0), payload]);
}

/**
 * A VP8 payload (RFC 7741 §4.2): descriptor with S=1, PID=0 and a 15-bit PictureID, then a
 * payload header whose P bit says keyframe (0) or not (1).
 */
export function vp8Payload(keyframe: boolean, pictureId: number): Buffer {
  return Buffer.from([0x90, 0x80, 0x80 | ((pictureId >> 8) & 0x7f), pictureId & 0xff, keyframe ? 0x00 : 0x01, 0xaa]);
}

/** The PictureID of a packet made with vp8Payload. */
export const pictureIdOf = (packet: Buffer): number => packet.readUInt16BE(14) & 0x7fff;

/** Time and timers driven by the test (no real timers). */
export class ManualClock implements LinkClock {
  #now = 0;
  #timers: { at: number; run: () => void }[] = [];

  now(): number {
    return this.#now;
  }

  after(ms: number, run: () => void): () => void {
    const timer = { at: this.#now + ms, run };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  /** Moves time on by `ms`, running the timers that fall due, in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const next = this.#timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = next.at;
      next.run();
    }
    this.#now = end;
  }

  get pending(): number {
    return this.#timers.length;
  }
}
