import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allocateRtpPort, releaseRtpPort } from '../../base/net/ports.ts';
import { OPUS_PAYLOAD_TYPE } from '../../base/rtp/payloadTypes.ts';
import { Decoder } from '../../mixer/ffmpeg/Decoder.ts';
import { OPUS_ENCODER_ARGS } from '../../src/bot/botArgs.ts';
import { readOggOpus } from '../../src/loadtest/containers.ts';
import { IncomingChain } from '../../src/media/incoming/IncomingChain.ts';
import { tonePower, runFfmpeg } from '../helpers/media.ts';
import { rtp } from '../helpers/rtpPackets.ts';
import { sleep } from '../helpers/wait.ts';

const AUDIO_LEVEL_ID = 1;
const TONE_HZ = 1000;
/** One-byte header extension (RFC 8285 §4.2) with the audio level element (RFC 6464). */
const levelExtension = (byte: number): Buffer => Buffer.from([0xbe, 0xde, 0x00, 0x01, (AUDIO_LEVEL_ID << 4) | 0, byte, 0, 0]);

/** Opus frames (20 ms) of `seconds` of FFmpeg's `source`, encoded as the bot encodes. */
async function opusFrames(source: string, seconds: number, dir: string): Promise<Buffer[]> {
  const file = join(dir, `${source.replace(/\W/g, '')}.ogg`);
  await runFfmpeg(['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', source, '-t', String(seconds), ...OPUS_ENCODER_ARGS, '-f', 'ogg', file]);
  return readOggOpus(await readFile(file));
}

/**
 * A publisher that says it is silent is not decoded (src/rtp/SilenceGate.ts): through the real
 * incoming chain into the session's real FFmpeg audio decoder, a voice, 12 s of silence and the
 * voice again. The silence must cost almost nothing, the decoder must outlive it (FFmpeg ends
 * an RTP input after 10 s without a packet), and the voice must come out again at once.
 */
describe('the silence gate in front of a real audio decoder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcu-silence-gate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('decodes a voice, almost none of a 12 s silence, and the voice again at once, with the decoder alive throughout', async () => {
    const [tone, silence] = await Promise.all([
      opusFrames(`sine=frequency=${TONE_HZ}:sample_rate=48000`, 1, dir),
      opusFrames('anullsrc=r=48000:cl=stereo', 12, dir),
    ]);
    const port = await allocateRtpPort();
    const decoder = await Decoder.create({
      label: 'gated audio',
      port,
      input: { kind: 'audio', codec: 'opus', payloadType: OPUS_PAYLOAD_TYPE },
      tileSource: { width: 2, height: 2 },
      workDir: dir,
    });
    const chunks: { at: number; pcm: Int16Array }[] = [];
    let died: Error | undefined;
    decoder.on('chunk', (chunk) => chunks.push({ at: performance.now(), pcm: new Int16Array(chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.length)) }));
    decoder.on('died', (error) => (died = error));
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.connect(port, '127.0.0.1', resolve));
    const chain = new IncomingChain({
      kind: 'audio',
      codec: 'opus',
      pli: false,
      audioLevelId: AUDIO_LEVEL_ID,
      forward: (packet) => socket.send(packet),
      sendPli: () => {},
    });
    try {
      // Until FFmpeg listens: what it misses here is not counted.
      await sleep(1000);
      const frames = [...tone.map((f) => ({ f, level: 0x80 | 21 })), ...silence.map((f) => ({ f, level: 127 })), ...tone.map((f) => ({ f, level: 0x80 | 21 }))];
      const start = performance.now();
      let resumedAt = 0;
      for (const [i, { f, level }] of frames.entries()) {
        // Paced as a publisher sends: one frame every 20 ms of the wall clock.
        const due = start + i * 20;
        if (due > performance.now()) await sleep(due - performance.now());
        if (i === tone.length + silence.length) resumedAt = performance.now();
        const packet = rtp({ ssrc: 7, seq: i, ts: i * 960, payload: f, extension: levelExtension(level), marker: false });
        packet[1] = OPUS_PAYLOAD_TYPE;
        chain.push(packet);
      }
      await sleep(1500);
      const held = chain.figures.silenceHeld;
      const during = chunks.filter((c) => c.at > start + 2500 && c.at < resumedAt);
      const toneAgain = chunks.filter((c) => c.at >= resumedAt && tonePower(c.pcm, TONE_HZ) > 1e-4);
      console.log(
        `silence gate: ${frames.length} packets sent, ${held} held back; ${chunks.length} chunks decoded, ${during.length} in the silence after its first second; ` +
          `the voice again ${toneAgain.length ? Math.round(toneAgain[0]!.at - resumedAt) : '-'} ms after it resumed (${toneAgain.length} chunks)`,
      );
      expect(died).toBeUndefined();
      // 12 s of silence: the first second passes, then one packet in a hundred.
      expect(held).toBeGreaterThanOrEqual(500);
      expect(during.length).toBeLessThanOrEqual(10);
      // The voice comes back out, all of it, and soon (a regression bound for a busy machine).
      expect(toneAgain.length).toBeGreaterThanOrEqual(40);
      expect(toneAgain[0]!.at - resumedAt).toBeLessThan(1000);
    } finally {
      chain.close();
      socket.close();
      await decoder.close();
      releaseRtpPort(port);
    }
  }, 60_000);
});
