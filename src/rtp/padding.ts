import { payloadOffset, RTP_MIN_HEADER } from './rtpHeader.ts';

/** The most padding one packet can carry: its count is one byte (RFC 3550 §5.1). */
export const MAX_PADDING = 255;

/**
 * An RTP packet that carries only padding (RFC 3550 §5.1: P set, the last byte counts the padding
 * bytes, itself included). Sent on a viewer's video SSRC with the stream's next sequence number and
 * its last timestamp, it adds to what the browser receives, and to what its estimate may say, with
 * nothing to decode: a probe of the link before a move to a better rung.
 */
export function paddingPacket(o: { payloadType: number; ssrc: number; seq: number; timestamp: number; size: number }): Buffer {
  const padding = Math.max(1, Math.min(MAX_PADDING, Math.trunc(o.size)));
  const packet = Buffer.alloc(RTP_MIN_HEADER + padding);
  packet[0] = 0x80 | 0x20; // version 2, padding
  packet[1] = o.payloadType & 0x7f;
  packet.writeUInt16BE(o.seq & 0xffff, 2);
  packet.writeUInt32BE(o.timestamp >>> 0, 4);
  packet.writeUInt32BE(o.ssrc >>> 0, 8);
  packet[packet.length - 1] = padding;
  return packet;
}

/** Packets of padding that add `bps` for `intervalMs`, as sizes (all full but the last). */
export function paddingSizes(bps: number, intervalMs: number): number[] {
  let bytes = Math.floor((Math.max(0, bps) * intervalMs) / 8000);
  const sizes: number[] = [];
  // Each packet costs its header too.
  while (bytes > RTP_MIN_HEADER && sizes.length < 1000) {
    const size = Math.min(MAX_PADDING, bytes - RTP_MIN_HEADER);
    sizes.push(size);
    bytes -= size + RTP_MIN_HEADER;
  }
  return sizes;
}

/** A packet that carries nothing but padding (P set, and the padding fills its whole payload). */
export function isPaddingOnly(packet: Buffer): boolean {
  if (packet.length <= RTP_MIN_HEADER || (packet[0]! & 0x20) === 0) return false;
  return packet.length - payloadOffset(packet) === packet[packet.length - 1];
}
