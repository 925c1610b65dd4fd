import { payloadOffset } from './rtpHeader.ts';

/**
 * True when this RTP packet starts a VP8 keyframe: payload descriptor with S=1 and PID=0
 * (RFC 7741 §4.2), then a payload header whose P bit is 0 (RFC 7741 §4.3).
 */
export function isVp8KeyframeStart(packet: Buffer): boolean {
  return vp8PayloadStartsKeyframe(packet, payloadOffset(packet));
}

/** The same for an RTP payload alone (from `offset`): no header to skip, no packet to serialize. */
export function vp8PayloadStartsKeyframe(packet: Buffer, offset = 0): boolean {
  let i = offset;
  if (i >= packet.length) return false;
  const descriptor = packet[i]!;
  const start = (descriptor & 0x10) !== 0;
  const partitionId = descriptor & 0x07;
  if (!start || partitionId !== 0) return false;
  i++;
  if (descriptor & 0x80) {
    // X: extension byte with I, L, T, K flags.
    const ext = packet[i++];
    if (ext === undefined) return false;
    if (ext & 0x80) i += (packet[i] ?? 0) & 0x80 ? 2 : 1; // PictureID, 7 or 15 bits
    if (ext & 0x40) i++; // TL0PICIDX
    if (ext & 0x30) i++; // TID/Y/KEYIDX
  }
  const header = packet[i];
  return header !== undefined && (header & 0x01) === 0;
}

/** Where a packet's PictureID sits (RFC 7741 §4.2), or undefined when it carries none. */
export function vp8PictureIdField(packet: Buffer): { offset: number; long: boolean } | undefined {
  const i = payloadOffset(packet);
  const descriptor = packet[i];
  if (descriptor === undefined || !(descriptor & 0x80)) return undefined;
  const ext = packet[i + 1];
  if (ext === undefined || !(ext & 0x80)) return undefined;
  const first = packet[i + 2];
  if (first === undefined) return undefined;
  const long = (first & 0x80) !== 0;
  if (long && i + 3 >= packet.length) return undefined;
  return { offset: i + 2, long };
}

/**
 * Keeps VP8 PictureIDs continuous across a change of source. Each new compositor numbers its
 * pictures from 0 again; a receiver that sees numbers it has already seen takes the new frames
 * for old ones (Chrome showed the previous layout, or corruption, until the next keyframe).
 * Rewrites in place, the 15-bit (or 7-bit) field keeping its width.
 */
export class Vp8PictureIdRewriter {
  #ssrc: number | undefined;
  #offset = 0;
  #last: number | undefined;
  #lastIn: number | undefined;

  /** The next picture follows the last one sent, whatever its number (a stream that paused and resumes). */
  resume(): void {
    this.#ssrc = undefined;
  }

  rewrite(packet: Buffer, ssrc: number): void {
    const field = vp8PictureIdField(packet);
    if (!field) return;
    const modulo = field.long ? 0x8000 : 0x80;
    const id = field.long ? packet.readUInt16BE(field.offset) & 0x7fff : packet[field.offset]! & 0x7f;
    if (ssrc !== this.#ssrc) {
      this.#ssrc = ssrc;
      this.#offset = this.#last === undefined ? 0 : this.#last + 1 - id;
    }
    const out = (((id + this.#offset) % modulo) + modulo) % modulo;
    if (field.long) packet.writeUInt16BE(0x8000 | out, field.offset);
    else packet[field.offset] = out;
    if (id !== this.#lastIn) {
      this.#lastIn = id;
      this.#last = out;
    }
  }
}
