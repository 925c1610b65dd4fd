/**
 * RTP payloads of one video frame, made once per clip and sent on every loop. Pure.
 * VP8 as RFC 7741 (and FFmpeg's rtp muxer) packs it; H.264 as RFC 6184, packetization mode 1.
 */

/**
 * Room in each packet for the RTP header (12 bytes), the header extensions werift's sender adds
 * (mid, audio level: up to 20 bytes) and SRTP's tag (10 bytes), under the 1200-byte packets the
 * bot's FFmpeg sends.
 */
export const MAX_RTP_PAYLOAD = 1150;

const VP8_DESCRIPTOR_BYTES = 4;

/**
 * One VP8 frame as RTP payloads. Each starts with the payload descriptor (RFC 7741 §4.2): X=1,
 * S=1 on the first packet of the frame only, partition index 0; then I=1 and a 15-bit PictureID
 * (M=1), which the sender numbers on, frame by frame, across loops of the clip.
 */
export function vp8Payloads(frame: Buffer, pictureId: number, maxPayload = MAX_RTP_PAYLOAD): Buffer[] {
  const chunk = maxPayload - VP8_DESCRIPTOR_BYTES;
  if (chunk < 1) throw new RangeError(`a VP8 payload needs more than ${VP8_DESCRIPTOR_BYTES} bytes`);
  if (frame.length === 0) throw new RangeError('an empty VP8 frame');
  const id = pictureId & 0x7fff;
  const payloads: Buffer[] = [];
  for (let offset = 0; offset < frame.length; offset += chunk) {
    const data = frame.subarray(offset, Math.min(frame.length, offset + chunk));
    const descriptor = Buffer.from([offset === 0 ? 0x90 : 0x80, 0x80, 0x80 | (id >> 8), id & 0xff]);
    payloads.push(Buffer.concat([descriptor, data]));
  }
  return payloads;
}

/** Writes the 15-bit PictureID into a payload made by vp8Payloads (each loop of a clip numbers on). */
export function setVp8PictureId(payload: Buffer, pictureId: number): Buffer {
  const out = Buffer.from(payload);
  out.writeUInt16BE(0x8000 | (pictureId & 0x7fff), 2);
  return out;
}

const STAP_A = 24;
const FU_A = 28;

/**
 * One H.264 access unit (NAL units without start codes) as RTP payloads, packetization mode 1
 * (RFC 6184 §5.7.1, §5.8): consecutive NAL units that fit together go in one STAP-A (a single NAL
 * unit goes alone), a NAL unit larger than a packet is cut into FU-A fragments.
 */
export function h264Payloads(nals: readonly Buffer[], maxPayload = MAX_RTP_PAYLOAD): Buffer[] {
  if (maxPayload < 3) throw new RangeError('an H.264 payload needs at least 3 bytes');
  const payloads: Buffer[] = [];
  let group: Buffer[] = [];
  let groupBytes = 1; // the STAP-A header
  const flush = (): void => {
    if (group.length === 1) payloads.push(group[0]!);
    else if (group.length > 1) {
      const nri = Math.max(...group.map((n) => n[0]! & 0x60));
      payloads.push(Buffer.concat([Buffer.from([nri | STAP_A]), ...group.flatMap((n) => [u16(n.length), n])]));
    }
    group = [];
    groupBytes = 1;
  };
  for (const nal of nals) {
    if (nal.length === 0) continue;
    if (nal.length > maxPayload) {
      flush();
      payloads.push(...fuA(nal, maxPayload));
      continue;
    }
    if (groupBytes + 2 + nal.length > maxPayload) flush();
    group.push(nal);
    groupBytes += 2 + nal.length;
  }
  flush();
  return payloads;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function fuA(nal: Buffer, maxPayload: number): Buffer[] {
  const header = nal[0]!;
  const indicator = (header & 0xe0) | FU_A;
  const type = header & 0x1f;
  const body = nal.subarray(1);
  const chunk = maxPayload - 2;
  const out: Buffer[] = [];
  for (let offset = 0; offset < body.length; offset += chunk) {
    const end = Math.min(body.length, offset + chunk);
    const fu = (offset === 0 ? 0x80 : 0) | (end === body.length ? 0x40 : 0) | type;
    out.push(Buffer.concat([Buffer.from([indicator, fu]), body.subarray(offset, end)]));
  }
  return out;
}
