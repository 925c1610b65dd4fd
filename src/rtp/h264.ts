import { payloadOffset } from './rtpHeader.ts';

const NAL_IDR = 5;
const NAL_SPS = 7;
const STAP_A = 24;
const FU_A = 28;

const startsKeyframe = (nalType: number): boolean => nalType === NAL_IDR || nalType === NAL_SPS;

/**
 * True when this RTP packet starts an H.264 keyframe (RFC 6184): a single SPS or IDR NAL unit,
 * an aggregation (STAP-A) holding one, or the first fragment (FU-A, S bit) of one.
 */
export function isH264KeyframeStart(packet: Buffer): boolean {
  return h264PayloadStartsKeyframe(packet, payloadOffset(packet));
}

/** The same for an RTP payload alone (from `offset`). */
export function h264PayloadStartsKeyframe(packet: Buffer, offset = 0): boolean {
  const header = packet[offset];
  if (header === undefined) return false;
  const type = header & 0x1f;
  if (type === FU_A) {
    const fu = packet[offset + 1];
    return fu !== undefined && (fu & 0x80) !== 0 && startsKeyframe(fu & 0x1f);
  }
  if (type === STAP_A) {
    // STAP-A: 16-bit size, then the NAL unit, repeated (RFC 6184 §5.7.1).
    for (let i = offset + 1; i + 2 < packet.length; ) {
      const size = packet.readUInt16BE(i);
      const nal = packet[i + 2];
      if (nal !== undefined && startsKeyframe(nal & 0x1f)) return true;
      i += 2 + size;
    }
    return false;
  }
  return startsKeyframe(type);
}
