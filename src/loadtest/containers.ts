/**
 * The three simple containers the load generator reads and writes: IVF (VP8 frames, and H.264
 * access units for the latency reader), H.264 Annex B, and Ogg (Opus). Pure: bytes in, bytes out.
 */

export const IVF_HEADER_BYTES = 32;
const IVF_FRAME_HEADER_BYTES = 12;

export interface IvfFile {
  fourcc: string;
  width: number;
  height: number;
  /** Seconds per pts unit: numerator / denominator. */
  timebase: { numerator: number; denominator: number };
  frames: { pts: number; data: Buffer }[];
}

/** Reads an IVF file (the libvpx test format FFmpeg writes with `-f ivf`). */
export function readIvf(file: Buffer): IvfFile {
  if (file.length < IVF_HEADER_BYTES || file.toString('latin1', 0, 4) !== 'DKIF') throw new Error('not an IVF file (no DKIF signature)');
  const headerBytes = file.readUInt16LE(6);
  const header = {
    fourcc: file.toString('latin1', 8, 12),
    width: file.readUInt16LE(12),
    height: file.readUInt16LE(14),
    // The header stores the frame rate (denominator first): its inverse is the timebase.
    timebase: { numerator: file.readUInt32LE(20), denominator: file.readUInt32LE(16) },
  };
  const frames: IvfFile['frames'] = [];
  let offset = Math.max(IVF_HEADER_BYTES, headerBytes);
  while (offset + IVF_FRAME_HEADER_BYTES <= file.length) {
    const size = file.readUInt32LE(offset);
    const pts = Number(file.readBigUInt64LE(offset + 4));
    const start = offset + IVF_FRAME_HEADER_BYTES;
    if (start + size > file.length) throw new Error(`IVF frame ${frames.length} is cut short (${size} bytes announced, ${file.length - start} left)`);
    frames.push({ pts, data: file.subarray(start, start + size) });
    offset = start + size;
  }
  return { ...header, frames };
}

/** An IVF file header: `fourcc` VP80 or H264 (FFmpeg's IVF demuxer reads both), `fps` frames per second. */
export function ivfHeader(o: { fourcc: 'VP80' | 'H264'; width: number; height: number; fps: number }): Buffer {
  const header = Buffer.alloc(IVF_HEADER_BYTES);
  header.write('DKIF', 0, 'latin1');
  header.writeUInt16LE(0, 4);
  header.writeUInt16LE(IVF_HEADER_BYTES, 6);
  header.write(o.fourcc, 8, 'latin1');
  header.writeUInt16LE(o.width, 12);
  header.writeUInt16LE(o.height, 14);
  header.writeUInt32LE(o.fps, 16);
  header.writeUInt32LE(1, 20);
  return header;
}

/** The 12 bytes before each IVF frame. */
export function ivfFrameHeader(size: number, pts: number): Buffer {
  const header = Buffer.alloc(IVF_FRAME_HEADER_BYTES);
  header.writeUInt32LE(size, 0);
  header.writeBigUInt64LE(BigInt(pts), 4);
  return header;
}

/** The NAL units of an H.264 Annex B stream (ITU-T H.264 Annex B: 00 00 01 or 00 00 00 01 before each), without start codes. */
export function splitAnnexB(stream: Buffer): Buffer[] {
  const starts: { code: number; nal: number }[] = [];
  for (let i = 0; i + 2 < stream.length; i++) {
    if (stream[i] === 0 && stream[i + 1] === 0 && stream[i + 2] === 1) {
      starts.push({ code: i > 0 && stream[i - 1] === 0 ? i - 1 : i, nal: i + 3 });
      i += 2;
    }
  }
  return starts.map((s, k) => stream.subarray(s.nal, k + 1 < starts.length ? starts[k + 1]!.code : stream.length)).filter((n) => n.length > 0);
}

export const NAL_AUD = 9;
export const nalType = (nal: Buffer): number => nal[0]! & 0x1f;

/**
 * The access units (one per frame) of an Annex B stream whose every access unit starts with an
 * access unit delimiter (FFmpeg: `-bsf:v h264_metadata=aud=insert`), delimiters left out.
 */
export function h264AccessUnits(stream: Buffer): Buffer[][] {
  const units: Buffer[][] = [];
  for (const nal of splitAnnexB(stream)) {
    if (nalType(nal) === NAL_AUD) units.push([]);
    else if (units.length === 0) throw new Error('the H.264 stream does not start with an access unit delimiter');
    else units[units.length - 1]!.push(nal);
  }
  return units.filter((u) => u.length > 0);
}

/**
 * The packets of an Ogg stream (RFC 3533): each page's segments joined by their lacing values, a
 * packet ending at a segment shorter than 255 bytes, possibly on a later page. One logical stream.
 */
export function readOggPackets(file: Buffer): Buffer[] {
  const packets: Buffer[] = [];
  let pending: Buffer[] = [];
  let offset = 0;
  while (offset < file.length) {
    if (offset + 27 > file.length || file.toString('latin1', offset, offset + 4) !== 'OggS') {
      throw new Error(`not an Ogg page at byte ${offset}`);
    }
    const segments = file[offset + 26]!;
    const table = file.subarray(offset + 27, offset + 27 + segments);
    let data = offset + 27 + segments;
    for (const lacing of table) {
      if (data + lacing > file.length) throw new Error('Ogg page cut short');
      pending.push(file.subarray(data, data + lacing));
      data += lacing;
      if (lacing < 255) {
        packets.push(Buffer.concat(pending));
        pending = [];
      }
    }
    offset = data;
  }
  return packets;
}

/**
 * The Opus packets of an Ogg Opus file (RFC 7845): every packet after the two headers (OpusHead,
 * OpusTags), one frame each as FFmpeg writes them with `-frame_duration 20`.
 */
export function readOggOpus(file: Buffer): Buffer[] {
  const packets = readOggPackets(file);
  if (packets[0]?.toString('latin1', 0, 8) !== 'OpusHead') throw new Error('not an Ogg Opus file (no OpusHead)');
  return packets.slice(2);
}
