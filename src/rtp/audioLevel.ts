import { RTP_MIN_HEADER } from './rtpHeader.ts';

/** The level a publisher reports for one audio packet (RFC 6464 §3): -dBov 0-127, and its voice activity bit. */
export interface AudioLevel {
  /** 0 is the loudest, 127 silence (or none measured). */
  dBov: number;
  voice: boolean;
}

/**
 * Reads the ssrc-audio-level element `id` of a packet's header extension, one-byte (0xBEDE) or
 * two-byte (0x100X) form (RFC 8285 §4.2, §4.3); undefined when the packet carries none.
 */
export function readAudioLevel(packet: Buffer, id: number): AudioLevel | undefined {
  if (packet.length < RTP_MIN_HEADER || !(packet[0]! & 0x10)) return undefined;
  const start = RTP_MIN_HEADER + 4 * (packet[0]! & 0x0f);
  if (packet.length < start + 4) return undefined;
  const profile = packet.readUInt16BE(start);
  const end = Math.min(packet.length, start + 4 + 4 * packet.readUInt16BE(start + 2));
  const oneByte = profile === 0xbede;
  if (!oneByte && (profile & 0xfff0) !== 0x1000) return undefined;
  for (let i = start + 4; i < end; ) {
    const first = packet[i]!;
    // Padding between elements (RFC 8285 §4.2: an ID of 0).
    if (first === 0) {
      i++;
      continue;
    }
    const elementId = oneByte ? first >> 4 : first;
    // One-byte form: ID 15 ends the extension (§4.2).
    if (oneByte && elementId === 15) return undefined;
    const length = oneByte ? (first & 0x0f) + 1 : (packet[i + 1] ?? 0);
    const data = i + (oneByte ? 1 : 2);
    if (data + length > end) return undefined;
    if (elementId === id && length >= 1) {
      const byte = packet[data]!;
      return { dBov: byte & 0x7f, voice: (byte & 0x80) !== 0 };
    }
    i = data + length;
  }
  return undefined;
}
