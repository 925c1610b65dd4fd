import { describe, expect, it } from 'vitest';
import { IncomingChain, type IncomingChainOptions } from '../../src/media/incoming/IncomingChain.ts';
import { readSeq } from '../../src/rtp/rtpHeader.ts';
import { ManualClock, rtp, vp8Payload } from '../helpers/rtpPackets.ts';

const SSRC = 0x1234;
const AUDIO_LEVEL_ID = 1;

function setup(options: Partial<IncomingChainOptions> = {}) {
  const clock = new ManualClock();
  const forwarded: Buffer[] = [];
  const plis: { at: number; ssrc: number }[] = [];
  const chain = new IncomingChain({
    kind: 'video',
    codec: 'VP8',
    pli: true,
    forward: (packet) => forwarded.push(packet),
    sendPli: (ssrc) => plis.push({ at: clock.now(), ssrc }),
    clock,
    ...options,
  });
  return { clock, forwarded, plis, chain };
}

/** One whole single-packet VP8 frame. */
const frame = (seq: number, keyframe = false): Buffer => rtp({ ssrc: SSRC, seq, ts: seq * 3000, payload: vp8Payload(keyframe, seq) });

/** One-byte header extension (RFC 8285 §4.2) with the audio level element (RFC 6464). */
const levelExtension = (byte: number): Buffer => Buffer.from([0xbe, 0xde, 0x00, 0x01, (AUDIO_LEVEL_ID << 4) | 0, byte, 0, 0]);

describe('the incoming chain of a published stream', () => {
  it('binds keyframe requests and the frame gate for video, the audio level tap for audio with the extension, and nothing not negotiated', () => {
    expect(setup().chain.links).toEqual(['keyframe requests', 'frame gate']);
    expect(setup({ pli: false }).chain.links).toEqual(['frame gate']);
    expect(setup({ kind: 'audio', codec: 'opus', audioLevelId: AUDIO_LEVEL_ID }).chain.links).toEqual(['audio level', 'silence gate']);
    expect(setup({ kind: 'audio', codec: 'opus' }).chain.links).toEqual([]);
    expect(setup({ kind: 'audio', codec: 'opus', audioLevelId: AUDIO_LEVEL_ID, decodeSilence: true }).chain.links).toEqual(['audio level']);
  });

  it('passes whole frames from a keyframe on, and asks for a keyframe (at most every 300 ms) while frames are dropped', () => {
    const { clock, forwarded, plis, chain } = setup();
    for (let seq = 1; seq <= 10; seq++) {
      chain.push(frame(seq));
      clock.advance(50);
    }
    expect(forwarded).toEqual([]);
    expect(plis.map((p) => p.at)).toEqual([0, 300]);
    expect(plis.every((p) => p.ssrc === SSRC)).toBe(true);
    chain.push(frame(11, true));
    chain.push(frame(12));
    expect(forwarded.length).toBe(2);
    expect(chain.figures.framesDropped).toBe(10);
    expect(chain.keyframes?.sent).toBe(2);
  });

  it('gives a gap up on its timer when no packet comes to do it, and asks for a keyframe', () => {
    const { clock, forwarded, plis, chain } = setup();
    chain.push(frame(1, true));
    chain.push(frame(3));
    expect(forwarded.map(readSeq)).toEqual([1]);
    clock.advance(99);
    expect(plis).toEqual([]);
    clock.advance(1);
    expect(chain.figures.losses).toBe(1);
    expect(plis.map((p) => p.at)).toEqual([100]);
    chain.close();
    expect(clock.pending).toBe(0);
  });

  it('asks for the session’s reasons through the same decider, counted once with the gate’s', () => {
    const { clock, plis, chain } = setup();
    // Before any packet there is no SSRC to name: nothing is sent, nothing counted.
    chain.needKeyframe('firstframe');
    expect(plis).toEqual([]);
    chain.push(frame(1, true));
    chain.needKeyframe('firstframe');
    clock.advance(250);
    chain.needKeyframe('firstframe');
    clock.advance(250);
    chain.needKeyframe('firstframe');
    chain.needKeyframe('restarted');
    expect(plis.map((p) => p.at)).toEqual([0, 500, 500]);
    expect(chain.keyframes?.sent).toBe(3);
  });

  it('skips to the next keyframe when the decoder falls behind, and asks for one', () => {
    const { clock, forwarded, plis, chain } = setup();
    chain.push(frame(1, true));
    let seq = 2;
    for (; seq <= 30 && chain.figures.decoderBehind === 0; seq++) {
      chain.push(frame(seq));
      clock.advance(100);
      // The decoder decoded its first frame and then nothing more.
      chain.decoded(1);
    }
    // Its usual: one frame in its queue (2 handed, 1 decoded); behind at more than six more.
    expect(chain.figures.framesForwarded).toBe(9);
    expect(plis.map((p) => p.at)).toEqual([clock.now()]);
    // Frames after the skip wait for a keyframe.
    const before = forwarded.length;
    chain.push(frame(seq++));
    expect(forwarded.length).toBe(before);
    chain.push(frame(seq, true));
    expect(forwarded.length).toBe(before + 1);
  });

  it('keeps the audio level the publisher reports, and passes sound and a second of silence on', () => {
    const { forwarded, chain } = setup({ kind: 'audio', codec: 'opus', audioLevelId: AUDIO_LEVEL_ID });
    chain.push(rtp({ seq: 1, extension: levelExtension(0x80 | 30) }));
    chain.push(rtp({ seq: 2, extension: levelExtension(127) }));
    chain.push(rtp({ seq: 3 }));
    expect(forwarded.length).toBe(3);
    expect(chain.figures.audioLevel).toEqual({ dBov: 127, voice: false });
    expect(chain.figures.voicePackets).toBe(1);
    expect(chain.keyframes).toBeUndefined();
  });

  it('holds back silence from the decoder after a second, renumbered so that the decoder sees no gap', () => {
    const { clock, forwarded, chain } = setup({ kind: 'audio', codec: 'opus', audioLevelId: AUDIO_LEVEL_ID });
    const packet = (seq: number, byte: number): void => {
      chain.push(rtp({ seq, ts: seq * 960, extension: levelExtension(byte) }));
      clock.advance(20);
    };
    packet(65530, 0x80 | 30);
    for (let seq = 65531; seq < 65531 + 150; seq++) packet(seq, 127); // 3 s of silence
    expect(chain.figures.silent).toBe(true);
    // The first second of silence passes; then one packet in a hundred keeps the decoder's input open.
    const passedInSilence = forwarded.length - 1;
    expect(passedInSilence).toBeGreaterThanOrEqual(50);
    expect(passedInSilence).toBeLessThanOrEqual(53);
    expect(chain.figures.silenceHeld).toBe(150 - passedInSilence);
    packet(65531 + 150, 0x80 | 20); // a voice again: on at once
    expect(chain.figures.silent).toBe(false);
    const seqs = forwarded.map(readSeq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => (65530 + i) & 0xffff));
    // The timestamp keeps its jump: the decoder writes nothing for the time held back.
    expect(forwarded.at(-1)!.readUInt32BE(4)).toBe((65531 + 150) * 960);
  });
});
