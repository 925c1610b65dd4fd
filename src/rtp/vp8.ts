import { payloadOffset } from './rtpHeader.ts';

/**
 * True when this RTP packet starts a VP8 keyframe: payload descriptor with S=1 and PID=0
 * (RFC 7741 §4.2), then a payload header whose P bit is 0 (RFC 7741 §4.3).
 */
export function isVp8KeyframeStart(packet: Buffer): boolean {
  let i = payloadOffset(packet);
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
