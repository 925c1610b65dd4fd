import { describe, expect, it } from 'vitest';
import { FrameGate, type GateOutput } from '../../src/rtp/FrameGate.ts';
import { readSeq } from '../../src/rtp/rtpHeader.ts';

const SSRC = 0x1234;

/** A packet whose one payload byte says whether it starts a keyframe (1) or not (0). */
function packet(seq: number, timestamp: number, { marker = true, key = false, ssrc = SSRC } = {}): Buffer {
  const b = Buffer.alloc(13);
  b[0] = 0x80;
  b[1] = (marker ? 0x80 : 0) | 96;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(timestamp >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  b[12] = key ? 1 : 0;
  return b;
}

const newGate = () => new FrameGate({ isKeyframeStart: (p) => p[12] === 1, lossTimeoutMs: 100, maxHeldPackets: 8 });
const timestamps = (out: GateOutput) => out.packets.map((p) => p.readUInt32BE(4));
const seqs = (out: GateOutput) => out.packets.map(readSeq);

describe('FrameGate', () => {
  it('passes nothing before a keyframe, then whole frames in order', () => {
    const gate = newGate();
    const before = gate.push(packet(10, 1000), 0);
    expect(before.packets).toEqual([]);
    expect(before.keyframeNeeded).toBe(true);
    expect(timestamps(gate.push(packet(11, 2000, { key: true, marker: false }), 1))).toEqual([]);
    expect(timestamps(gate.push(packet(12, 2000), 2))).toEqual([2000, 2000]);
    expect(timestamps(gate.push(packet(13, 3000), 3))).toEqual([3000]);
    expect(gate.waitingForKeyframe).toBe(false);
  });

  it('skips to the next keyframe when told its decoder is behind, numbering on without a gap', () => {
    const gate = newGate();
    gate.push(packet(1, 100, { key: true }), 0);
    gate.push(packet(2, 200, { marker: false }), 1);
    const skip = gate.skipToKeyframe();
    expect(skip).toEqual({ packets: [], keyframeNeeded: true });
    expect(gate.waitingForKeyframe).toBe(true);
    expect(gate.framesDropped).toBe(1); // the frame in progress
    expect(gate.push(packet(3, 200), 2).packets).toEqual([]);
    expect(gate.push(packet(4, 300), 3).packets).toEqual([]);
    const key = gate.push(packet(5, 400, { key: true }), 4);
    expect(timestamps(key)).toEqual([400]);
    expect(seqs(key)).toEqual([2]);
    expect(gate.framesDropped).toBe(3);
  });

  it('puts a late packet back in its place and renumbers without gaps', () => {
    const gate = newGate();
    gate.push(packet(1, 100, { key: true }), 0);
    expect(gate.push(packet(3, 200), 1).packets).toEqual([]); // 2 is missing: held
    expect(gate.holding).toBe(true);
    const out = gate.push(packet(2, 150), 20); // the retransmission
    expect(timestamps(out)).toEqual([150, 200]);
    expect(seqs(out)).toEqual([2, 3]);
    expect(gate.holding).toBe(false);
    expect(gate.losses).toBe(0);
  });

  it('after a loss, drops every frame until a keyframe and asks for one', () => {
    const gate = newGate();
    gate.push(packet(1, 100, { key: true }), 0);
    gate.push(packet(2, 200, { marker: false }), 1);
    // 3 (the end of frame 200) is lost; 4 and 5 are whole frames that may reference it.
    gate.push(packet(4, 300), 2);
    gate.push(packet(5, 400), 3);
    const expired = gate.poll(150);
    expect(expired.keyframeNeeded).toBe(true);
    expect(expired.packets).toEqual([]);
    expect(gate.losses).toBe(1);
    expect(gate.waitingForKeyframe).toBe(true);
    expect(gate.push(packet(3, 200), 160).packets).toEqual([]); // too late: dropped
    expect(gate.push(packet(6, 500), 170).keyframeNeeded).toBe(true);
    const key = gate.push(packet(7, 600, { key: true }), 180);
    expect(timestamps(key)).toEqual([600]);
    // Numbered on from the last packet passed (1), as if nothing had been in between.
    expect(seqs(key)).toEqual([2]);
  });

  it('does not wait past the loss timeout when packets stop behind a gap', () => {
    const gate = newGate();
    gate.push(packet(1, 100, { key: true }), 0);
    gate.push(packet(3, 300, { key: true }), 10);
    expect(gate.poll(99).packets).toEqual([]);
    expect(timestamps(gate.poll(110))).toEqual([300]); // a keyframe behind the gap: decodable
  });

  it('gives up at once when too many packets are held', () => {
    const gate = newGate();
    gate.push(packet(1, 100, { key: true }), 0);
    let out: GateOutput = { packets: [], keyframeNeeded: false };
    for (let seq = 3; seq <= 12; seq++) out = gate.push(packet(seq, seq * 100, { key: seq === 12 }), 1);
    expect(gate.losses).toBe(1);
    expect(timestamps(out)).toEqual([1200]);
  });

  it('handles sequence numbers wrapping through 65535', () => {
    const gate = newGate();
    const out = [65534, 65535, 0, 1].map((seq, i) => gate.push(packet(seq, 1000 + i, { key: i === 0 }), i));
    expect(out.flatMap(timestamps)).toEqual([1000, 1001, 1002, 1003]);
    expect(out.flatMap(seqs)).toEqual([65534, 65535, 0, 1]);
  });

  it('starts over, waiting for a keyframe, when the publisher changes SSRC, and keeps its numbering', () => {
    const gate = newGate();
    gate.push(packet(100, 1, { key: true }), 0);
    expect(gate.push(packet(7000, 2, { ssrc: 99 }), 1).packets).toEqual([]);
    expect(seqs(gate.push(packet(7001, 3, { ssrc: 99, key: true }), 2))).toEqual([101]);
  });

  it('starts over when the sequence numbers jump far back (the sender restarted), instead of taking every packet for a late one', () => {
    const gate = newGate();
    gate.push(packet(40_000, 1, { key: true }), 0);
    expect(gate.push(packet(39_999, 2), 1).packets).toEqual([]); // merely late: ignored
    expect(gate.push(packet(30_000, 3), 2).packets).toEqual([]); // restarted: waits for a keyframe
    expect(seqs(gate.push(packet(30_001, 4, { key: true }), 3))).toEqual([40_001]);
  });

  // A publisher that starts a new encoder without rebasing its numbering (werift's sender, as the
  // bot's resize does): sequence numbers a little behind or ahead, timestamps far away.
  it('starts over at once when the numbering jumps a little back and the timestamp jumps far (a new encoder)', () => {
    const gate = newGate();
    gate.push(packet(4000, 1_000_000, { key: true }), 0);
    gate.push(packet(4001, 1_003_000), 1);
    const out = gate.push(packet(3500, 77_000_000, { key: true }), 2);
    expect(seqs(out)).toEqual([4002]);
    expect(timestamps(out)).toEqual([77_000_000]);
    expect(seqs(gate.push(packet(3501, 77_003_000), 3))).toEqual([4003]);
  });

  it('starts over at once, without waiting out the loss timeout, when the numbering jumps ahead with a far timestamp', () => {
    const gate = newGate();
    gate.push(packet(100, 1_000_000, { key: true }), 0);
    const out = gate.push(packet(2100, 3_000_000_000, { key: true }), 1);
    expect(seqs(out)).toEqual([101]);
    expect(gate.holding).toBe(false);
  });

  it('still takes a late packet with a near timestamp for a retransmission, not a new encoder', () => {
    const gate = newGate();
    gate.push(packet(4000, 1_000_000, { key: true }), 0);
    gate.push(packet(4001, 1_003_000), 1);
    expect(gate.push(packet(3500, 990_000), 2).packets).toEqual([]);
    expect(seqs(gate.push(packet(4002, 1_006_000), 3))).toEqual([4002]);
  });

  it('closes a frame whose marker never came when the next timestamp begins', () => {
    const gate = newGate();
    gate.push(packet(1, 100, { key: true, marker: false }), 0);
    expect(timestamps(gate.push(packet(2, 200, { marker: false }), 1))).toEqual([100]);
  });
});
