/** Reading and rewriting the fixed RTP header fields in place (RFC 3550 §5.1). */

export const RTP_MIN_HEADER = 12;

/** Version 2 and not RTCP: RTCP packet types 192-223 sit where RTP has marker + payload type (RFC 5761 §4). */
export function isRtp(packet: Buffer): boolean {
  return packet.length >= RTP_MIN_HEADER && packet[0]! >> 6 === 2 && !(packet[1]! >= 192 && packet[1]! <= 223);
}

export const readSeq = (packet: Buffer): number => packet.readUInt16BE(2);
export const readTimestamp = (packet: Buffer): number => packet.readUInt32BE(4);
export const readSsrc = (packet: Buffer): number => packet.readUInt32BE(8);
export const readMarker = (packet: Buffer): boolean => (packet[1]! & 0x80) !== 0;

export function writeSeqAndTimestamp(packet: Buffer, seq: number, timestamp: number): void {
  packet.writeUInt16BE(seq, 2);
  writeTimestamp(packet, timestamp);
}

export function writeTimestamp(packet: Buffer, timestamp: number): void {
  packet.writeUInt32BE(timestamp >>> 0, 4);
}

/** Offset of the payload: fixed header, CSRCs, and the header extension if present. */
export function payloadOffset(packet: Buffer): number {
  const csrcCount = packet[0]! & 0x0f;
  let offset = RTP_MIN_HEADER + 4 * csrcCount;
  if (packet[0]! & 0x10) {
    if (packet.length < offset + 4) return packet.length;
    offset += 4 + 4 * packet.readUInt16BE(offset + 2);
  }
  return Math.min(offset, packet.length);
}
