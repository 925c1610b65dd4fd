import type { RtpPacket } from 'werift';
import { describe, expect, it } from 'vitest';
import { ViewerChain } from '../../src/media/outgoing/ViewerChain.ts';
import type { OutgoingSource } from '../../src/media/outgoing/ViewerStream.ts';
import { readSeq, readTimestamp } from '../../src/rtp/rtpHeader.ts';
import { pictureIdOf, rtp, vp8Payload } from '../helpers/rtpPackets.ts';

let ids = 0;

/** A source in memory: the test sends its packets (what OutgoingStream does after its own switcher). */
class Source implements OutgoingSource {
  readonly id = ++ids;
  readonly kind = 'video';
  readonly listeners = new Map<(packet: Buffer) => void, (() => void) | undefined>();
  constructor(readonly codec: 'VP8' | 'H264' = 'VP8') {}

  onRtp(listener: (packet: Buffer) => void, closed?: () => void): () => void {
    this.listeners.set(listener, closed);
    return () => this.listeners.delete(listener);
  }

  send(packet: Buffer): void {
    for (const listener of [...this.listeners.keys()]) listener(packet);
  }

  close(): void {
    for (const closed of [...this.listeners.values()]) closed?.();
    this.listeners.clear();
  }
}

/** A frame of one packet: seq, ts 3000 apart, picture id as given. */
const frame = (ssrc: number, seq: number, pictureId: number, keyframe = false): Buffer =>
  rtp({ ssrc, seq, ts: seq * 3000, payload: vp8Payload(keyframe, pictureId) });

function viewer(source: Source, now = { t: 0 }) {
  const chain = new ViewerChain(source, { now: () => now.t });
  const received: Buffer[] = [];
  const packets: RtpPacket[] = [];
  chain.track.onReceiveRtp.subscribe((packet: RtpPacket) => {
    packets.push(packet);
    // What werift's sender puts on the wire: the header as it serializes it, then the payload.
    received.push(Buffer.concat([packet.header.serialize(packet.header.serializeSize), packet.payload]));
  });
  return { chain, received, packets, now };
}

describe('a viewer’s chain', () => {
  it('gives the viewer its own copy of each packet, unchanged while it stays on one source', () => {
    const source = new Source();
    const a = viewer(source);
    const b = viewer(source);
    const packets = [frame(7, 100, 5, true), frame(7, 101, 6), frame(8, 102, 7, true)];
    for (const packet of packets) source.send(packet);
    for (const v of [a, b]) expect(v.received.map((p) => p.toString('hex'))).toEqual(packets.map((p) => p.toString('hex')));
  });

  it('switches to another source at its next keyframe, with sequence numbers, timestamps and picture ids going on', () => {
    const [one, two] = [new Source(), new Source()];
    const v = viewer(one);
    one.send(frame(1, 500, 40, true));
    v.now.t = 33;
    one.send(frame(1, 501, 41));
    v.chain.switchTo(two);
    // Until the new source's keyframe, the old one goes on; the new one's delta frames are not shown.
    two.send(frame(2, 9000, 3));
    v.now.t = 66;
    one.send(frame(1, 502, 42));
    expect(v.chain.source).toBe(one.id);
    v.now.t = 100;
    two.send(frame(2, 9001, 4, true));
    expect(v.chain.source).toBe(two.id);
    one.send(frame(1, 503, 43));
    two.send(frame(2, 9002, 5));
    expect(v.received.map(readSeq)).toEqual([500, 501, 502, 503, 504]);
    expect(v.received.map(pictureIdOf)).toEqual([40, 41, 42, 43, 44]);
    const ts = v.received.map(readTimestamp);
    // 34 ms after the old source's last packet: 34 × 90 ticks on from its timestamp.
    expect(ts[3]! - ts[2]!).toBe(34 * 90);
    expect(ts[4]! - ts[3]!).toBe(3000);
    // The old source is let go.
    expect(one.listeners.size).toBe(0);
  });

  it('may go back to a source it left', () => {
    const [one, two] = [new Source(), new Source()];
    const v = viewer(one);
    one.send(frame(1, 10, 1, true));
    v.chain.switchTo(two);
    two.send(frame(2, 20, 1, true));
    v.chain.switchTo(one);
    one.send(frame(1, 11, 2, true));
    expect(v.chain.source).toBe(one.id);
    expect(v.received.map(readSeq)).toEqual([10, 11, 12]);
  });

  it('pauses on its last picture, and resumes at the next keyframe with the numbering going on', () => {
    const source = new Source();
    const v = viewer(source);
    source.send(frame(1, 100, 9, true));
    v.chain.pause();
    expect(v.chain.source).toBeUndefined();
    expect(source.listeners.size).toBe(0);
    source.send(frame(1, 101, 10));
    expect(v.received).toHaveLength(1);
    v.chain.switchTo(source);
    source.send(frame(1, 102, 11));
    v.now.t = 2000;
    source.send(frame(1, 103, 12, true));
    source.send(frame(1, 104, 13));
    expect(v.chain.source).toBe(source.id);
    expect(v.received.map(readSeq)).toEqual([100, 101, 102]);
    expect(v.received.map(pictureIdOf)).toEqual([9, 10, 11]);
    // Its timestamps go on by the time it was paused.
    expect(readTimestamp(v.received[1]!) - readTimestamp(v.received[0]!)).toBe(2000 * 90);
  });

  it('numbers padding into its stream: the packets after it go on after it, and it leaves as padding', () => {
    const source = new Source();
    const v = viewer(source);
    source.send(frame(1, 100, 9, true));
    v.chain.pad([100, 255]);
    source.send(frame(1, 101, 10));
    expect(v.received.map(readSeq)).toEqual([100, 101, 102, 103]);
    expect(v.received.map(readTimestamp)).toEqual([300_000, 300_000, 300_000, 303_000]);
    const [, first, second] = v.received;
    for (const [packet, size] of [[first!, 100], [second!, 255]] as const) {
      // P set, and the last byte counts the padding that fills the payload (RFC 3550 §5.1).
      expect(packet[0]! & 0x20).toBe(0x20);
      expect(packet.length).toBe(12 + size);
      expect(packet[packet.length - 1]).toBe(size);
    }
    expect(pictureIdOf(v.received[3]!)).toBe(10);
    expect(v.chain.bytesSent).toBe(v.received.reduce((n, p) => n + p.length, 0));
  });

  it('refuses a source of another codec, and closes when its source closes or its track is stopped', () => {
    const source = new Source();
    const v = viewer(source);
    expect(() => v.chain.switchTo(new Source('H264'))).toThrow(/H264/);
    source.close();
    expect(v.chain.track.stopped).toBe(true);
    const other = new Source();
    const w = viewer(other);
    w.chain.track.stop();
    other.send(frame(3, 1, 1, true));
    expect(other.listeners.size).toBe(0);
    expect(w.received).toEqual([]);
  });

  it('rewrites no picture ids of H.264', () => {
    const source = new Source('H264');
    const v = viewer(source);
    expect(v.chain.track.kind).toBe('video');
    const packet = rtp({ ssrc: 1, seq: 1, payload: Buffer.from([0x65, 0x88, 0x80, 0x01]) });
    source.send(packet);
    expect(v.received[0]?.equals(packet)).toBe(true);
  });
});
