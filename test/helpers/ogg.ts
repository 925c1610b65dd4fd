/**
 * Opus packets received over RTP put into an Ogg Opus file (RFC 7845, pages as RFC 3533), so that
 * FFmpeg can decode what a load-test client heard. One packet per page; a 20 ms packet at 48 kHz.
 */

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

/** Ogg's CRC-32 (polynomial 0x04c11db7, not reflected, initial 0), over the page with its CRC field zero. */
function crc(page: Buffer): number {
  let c = 0;
  for (const byte of page) c = ((c << 8) ^ CRC_TABLE[((c >>> 24) ^ byte) & 0xff]!) >>> 0;
  return c >>> 0;
}

function page(data: Buffer, sequence: number, granule: bigint, flags: number): Buffer {
  const lacing: number[] = [];
  let left = data.length;
  while (left >= 255) {
    lacing.push(255);
    left -= 255;
  }
  lacing.push(left);
  const header = Buffer.alloc(27);
  header.write('OggS', 0, 'latin1');
  header[5] = flags;
  header.writeBigInt64LE(granule, 6);
  header.writeUInt32LE(0x6d637531, 14);
  header.writeUInt32LE(sequence, 18);
  header[26] = lacing.length;
  const out = Buffer.concat([header, Buffer.from(lacing), data]);
  out.writeUInt32LE(crc(out), 22);
  return out;
}

export function oggOpus(packets: readonly Buffer[], channels = 2): Buffer {
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0, 'latin1');
  head[8] = 1;
  head[9] = channels;
  head.writeUInt16LE(312, 10);
  head.writeUInt32LE(48_000, 12);
  const tags = Buffer.concat([Buffer.from('OpusTags', 'latin1'), Buffer.from([4, 0, 0, 0]), Buffer.from('test', 'latin1'), Buffer.alloc(4)]);
  const pages = [page(head, 0, 0n, 0x02), page(tags, 1, 0n, 0)];
  packets.forEach((packet, i) => pages.push(page(packet, i + 2, BigInt((i + 1) * 960), i === packets.length - 1 ? 0x04 : 0)));
  return Buffer.concat(pages);
}
