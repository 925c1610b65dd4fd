import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RESERVATIONS_DIR } from '../../base/net/ports.ts';
import { readSeq, readTimestamp, writeSeqAndTimestamp } from '../../src/rtp/rtpHeader.ts';
import { RtpFileWriter, type RtpFileWriterOptions } from '../../src/recording/RtpFileWriter.ts';
import { probeDuration } from '../../src/recording/repair.ts';
import { readVp8Capture } from '../helpers/rtpCapture.ts';

/**
 * The one RTP-to-file path of the server's recorder and the bot's: real FFmpeg, real loopback
 * UDP. The VP8 capture (a keyframe and two delta frames) is sent over and over with advancing
 * sequence numbers and timestamps, as a live composite would arrive.
 */

const dir = mkdtempSync(join(tmpdir(), 'mcu-rtp-file-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const packets = readVp8Capture();

function videoOnly(out: string, extra: string[] = []): RtpFileWriterOptions {
  return {
    name: 'test writer',
    kinds: ['video'],
    sdp: (ports) =>
      ['v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=test', 'c=IN IP4 127.0.0.1', 't=0 0', `m=video ${ports.video} RTP/AVP 96`, 'a=rtpmap:96 VP8/90000', ''].join('\n'),
    args: (sdpPath) => [
      '-hide_banner', '-nostdin', '-loglevel', 'warning', '-nostats',
      '-protocol_whitelist', 'file,udp,rtp', '-probesize', '32', '-analyzeduration', '0',
      '-i', sdpPath, '-map', '0', '-c', 'copy', ...extra, '-f', 'matroska', '-y', `file:${out}`,
    ],
  };
}

/** The capture again and again, 30 frames a second, until stopped. */
function stream(writer: RtpFileWriter): () => void {
  let round = 0;
  const timer = setInterval(() => {
    for (const packet of packets) {
      const copy = Buffer.from(packet);
      writeSeqAndTimestamp(copy, (readSeq(packet) + round * packets.length) & 0xffff, (readTimestamp(packet) + round * 9000) >>> 0);
      writer.send('video', copy);
    }
    round++;
  }, 100);
  return () => clearInterval(timer);
}

function reserved(port: number | undefined): boolean {
  return port !== undefined && existsSync(join(RESERVATIONS_DIR, String(port)));
}

describe('RtpFileWriter', () => {
  it('writes what it is sent into a finished file, then releases its port and its SDP folder', async () => {
    const out = join(dir, 'video.mkv');
    const writer = await RtpFileWriter.create(videoOnly(out));
    const port = writer.ports.video;
    expect(reserved(port)).toBe(true);
    expect(existsSync(writer.sdpPath)).toBe(true);
    expect(await writer.untilListening(20_000)).toBe(true);
    const stop = stream(writer);
    const deadline = Date.now() + 30_000;
    while ((!existsSync(out) || statSync(out).size === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1000));
    const exit = await writer.stop();
    stop();
    expect(exit).toMatchObject({ expected: true });
    expect(await probeDuration(out)).toBeGreaterThan(0.3);
    expect(reserved(port)).toBe(false);
    expect(existsSync(dirname(writer.sdpPath))).toBe(false);
  }, 60_000);

  it('an FFmpeg that fails says so in `closed`, and releases everything too', async () => {
    const writer = await RtpFileWriter.create(videoOnly(join(dir, 'never.mkv'), ['-no_such_option']));
    const port = writer.ports.video;
    const exit = await writer.closed;
    expect(exit.expected).toBe(false);
    expect(exit.code).not.toBe(0);
    expect(reserved(port)).toBe(false);
    expect(existsSync(dirname(writer.sdpPath))).toBe(false);
    // Sends after the exit are dropped, not thrown.
    expect(() => writer.send('video', packets[0]!)).not.toThrow();
    expect(await writer.stop()).toBe(exit);
  }, 60_000);
});
