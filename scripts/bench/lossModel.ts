/**
 * The pure half of the loss relay (lossRelay.ts): which packet of a flow is dropped, and which
 * datagrams from a TURN server to its client carry the RTP that the loss applies to.
 */

/** Loss in runs of `burst` packets (1: independent), `percent` of the packets on average. */
export interface LossPattern {
  percent: number;
  burst: number;
  /** The same seed drops the same packets. */
  seed: number;
}

export const NO_LOSS: LossPattern = { percent: 0, burst: 1, seed: 1 };

/** A uniform number in [0, 1) from two integers (murmur3's 32-bit finalizer over their mix). */
function hashUnit(seed: number, n: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(n | 0, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

/**
 * Whether the packet at `index` (0, 1, 2 … within its flow) is dropped. Packets go in blocks of
 * `burst`; each block is dropped whole, independently of the others, with probability `percent`.
 * So runs are `burst` long, or a multiple of it when neighbouring blocks both fall.
 */
export function dropsPacket(pattern: LossPattern, index: number): boolean {
  if (pattern.percent <= 0) return false;
  const burst = Math.max(1, Math.floor(pattern.burst));
  return hashUnit(pattern.seed, Math.floor(index / burst)) < pattern.percent / 100;
}

const STUN_DATA_INDICATION = 0x0017;
const STUN_MAGIC_COOKIE = 0x2112a442;
const STUN_ATTR_DATA = 0x0013;
const STUN_HEADER = 20;

/**
 * What a datagram from a TURN server to its client carries for the client's peer: the payload of
 * a ChannelData message (RFC 8656 §12.4) or the DATA attribute of a Data indication (§11.6).
 * Undefined for anything else (the TURN server's own responses). Channels 0x4000-0x7FFF, as RFC
 * 5766 had them: Chromium picks its channel numbers at random in that range.
 */
export function turnPayload(datagram: Buffer): Buffer | undefined {
  if (datagram.length < 4) return undefined;
  const first = datagram[0]!;
  if (first >= 0x40 && first <= 0x7f) {
    const length = datagram.readUInt16BE(2);
    return datagram.length >= 4 + length ? datagram.subarray(4, 4 + length) : undefined;
  }
  if (datagram.length < STUN_HEADER || datagram.readUInt16BE(0) !== STUN_DATA_INDICATION || datagram.readUInt32BE(4) !== STUN_MAGIC_COOKIE) return undefined;
  const end = Math.min(datagram.length, STUN_HEADER + datagram.readUInt16BE(2));
  for (let at = STUN_HEADER; at + 4 <= end; ) {
    const type = datagram.readUInt16BE(at);
    const length = datagram.readUInt16BE(at + 2);
    if (at + 4 + length > end) return undefined;
    if (type === STUN_ATTR_DATA) return datagram.subarray(at + 4, at + 4 + length);
    at += 4 + Math.ceil(length / 4) * 4;
  }
  return undefined;
}

/**
 * The payload type of an RTP packet (SRTP leaves the header in the clear); undefined for RTCP
 * (packet types 192-223 share the byte: RFC 5761 §4), STUN, DTLS and anything too short.
 */
export function rtpPayloadType(packet: Buffer): number | undefined {
  if (packet.length < 12 || packet[0]! >> 6 !== 2) return undefined;
  const type = packet[1]! & 0x7f;
  return type >= 64 && type <= 95 ? undefined : type;
}
