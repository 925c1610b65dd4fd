import { readFileSync } from 'node:fs';

/** The RTP packets of `test/fixtures/vp8-rtp.bin`: a 2-byte big-endian length before each (see its README). */
export function readVp8Capture(): Buffer[] {
  const file = readFileSync(new URL('../fixtures/vp8-rtp.bin', import.meta.url));
  const packets: Buffer[] = [];
  for (let at = 0; at < file.length; at += 2 + file.readUInt16BE(at)) {
    packets.push(Buffer.from(file.subarray(at + 2, at + 2 + file.readUInt16BE(at))));
  }
  return packets;
}
