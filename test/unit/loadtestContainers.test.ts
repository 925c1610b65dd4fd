import { describe, expect, test } from 'vitest';
import { h264AccessUnits, ivfFrameHeader, ivfHeader, readIvf, readOggOpus, readOggPackets, splitAnnexB } from '../../src/loadtest/containers.ts';
import { annexB } from '../helpers/media.ts';

/** One Ogg page (RFC 3533 §6) holding `segments` lacing values and their data; checksum left 0 (not read). */
function oggPage(lacing: number[], data: Buffer, flags = 0): Buffer {
  const header = Buffer.alloc(27);
  header.write('OggS', 0, 'latin1');
  header[5] = flags;
  header[26] = lacing.length;
  return Buffer.concat([header, Buffer.from(lacing), data]);
}

describe('IVF', () => {
  test('ivfHeader() writes the 32-byte header FFmpeg reads: signature, size, fourcc, picture size, rate', () => {
    const h = ivfHeader({ fourcc: 'H264', width: 1280, height: 720, fps: 30 });
    expect(h).toHaveLength(32);
    expect(h.toString('latin1', 0, 4)).toBe('DKIF');
    expect(h.readUInt16LE(6)).toBe(32);
    expect(h.toString('latin1', 8, 12)).toBe('H264');
    expect([h.readUInt16LE(12), h.readUInt16LE(14), h.readUInt32LE(16), h.readUInt32LE(20)]).toEqual([1280, 720, 30, 1]);
  });

  test('readIvf() reads back the frames ivfFrameHeader() framed, with their pts', () => {
    const frames = [Buffer.from([1, 2, 3]), Buffer.from([]), Buffer.from([9])];
    const file = Buffer.concat([ivfHeader({ fourcc: 'VP80', width: 640, height: 360, fps: 30 }), ...frames.flatMap((f, i) => [ivfFrameHeader(f.length, i * 7), f])]);
    const ivf = readIvf(file);
    expect(ivf).toMatchObject({ fourcc: 'VP80', width: 640, height: 360, timebase: { numerator: 1, denominator: 30 } });
    expect(ivf.frames.map((f) => [f.pts, [...f.data]])).toEqual([[0, [1, 2, 3]], [7, []], [14, [9]]]);
  });

  test('readIvf() refuses a file that is not IVF, and a frame cut short', () => {
    expect(() => readIvf(Buffer.from('not an ivf file at all, not at all'))).toThrow(/DKIF/);
    const cut = Buffer.concat([ivfHeader({ fourcc: 'VP80', width: 2, height: 2, fps: 1 }), ivfFrameHeader(10, 0), Buffer.from([1, 2])]);
    expect(() => readIvf(cut)).toThrow(/cut short/);
  });
});

describe('H.264 Annex B', () => {
  const sps = Buffer.from([0x67, 0x42, 0xc0, 0x1f]);
  const pps = Buffer.from([0x68, 0xce, 0x3c, 0x80]);
  const idr = Buffer.from([0x65, 0x88, 0x84, 0x00, 0x33]);
  const slice = Buffer.from([0x41, 0x9a, 0x02]);
  const aud = Buffer.from([0x09, 0xf0]);

  test('splitAnnexB() cuts at 3- and 4-byte start codes and drops the codes', () => {
    const stream = Buffer.concat([Buffer.from([0, 0, 0, 1]), sps, Buffer.from([0, 0, 1]), pps, Buffer.from([0, 0, 0, 1]), idr]);
    expect(splitAnnexB(stream)).toEqual([sps, pps, idr]);
  });

  test('h264AccessUnits() starts a frame at each delimiter and leaves the delimiters out', () => {
    const stream = annexB([aud, sps, pps, idr, aud, slice, aud, slice]);
    expect(h264AccessUnits(stream)).toEqual([[sps, pps, idr], [slice], [slice]]);
  });

  test('h264AccessUnits() refuses a stream without delimiters', () => {
    expect(() => h264AccessUnits(annexB([sps, pps, idr]))).toThrow(/delimiter/);
  });
});

describe('Ogg', () => {
  test('readOggPackets() joins 255-byte segments into one packet, across pages', () => {
    const long = Buffer.alloc(300, 7);
    const short = Buffer.from([1, 2, 3]);
    // Page 1: the first 255 bytes of `long` (lacing 255: continues); page 2: its last 45, then `short`.
    const pages = Buffer.concat([oggPage([255], long.subarray(0, 255)), oggPage([45, 3], Buffer.concat([long.subarray(255), short]), 1)]);
    expect(readOggPackets(pages)).toEqual([long, short]);
  });

  test('readOggOpus() skips OpusHead and OpusTags and refuses what is not Opus', () => {
    const head = Buffer.from('OpusHead........');
    const tags = Buffer.from('OpusTags....');
    const frame = Buffer.from([0xfc, 0xff, 0xfe]);
    const file = Buffer.concat([oggPage([head.length], head), oggPage([tags.length], tags), oggPage([frame.length, frame.length], Buffer.concat([frame, frame]))]);
    expect(readOggOpus(file)).toEqual([frame, frame]);
    expect(() => readOggOpus(oggPage([4], Buffer.from('Vorb')))).toThrow(/OpusHead/);
    expect(() => readOggPackets(Buffer.from('not ogg at all, really not ogg'))).toThrow(/Ogg page/);
  });
});
