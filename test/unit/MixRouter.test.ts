import { describe, expect, test } from 'vitest';
import { MixRouter } from '../../mixer/logic/MixRouter.ts';

const SHARED_SSRC = 0x1111;
const SLOT_SSRC = 0x2222;

/** An Opus RTP packet as an encoder sends it: frame `n` of a stream that started at timestamp `ts0`. */
function packet(ssrc: number, n: number, ts0 = 5000, payload = n): Buffer {
  const p = Buffer.alloc(13);
  p[0] = 0x80;
  p[1] = 111;
  p.writeUInt16BE((100 + n) & 0xffff, 2);
  p.writeUInt32BE((ts0 + 960 * n) >>> 0, 4);
  p.writeUInt32BE(ssrc, 8);
  p[12] = payload;
  return p;
}

/** A router with a shared and a slot encoder, each written every tick 0..ticks-1. */
function router(ticks: number): MixRouter {
  let next = 0;
  const r = new MixRouter(() => [0xaaaa0000, 70_000, 0xbbbb0000, 10][next++ % 4]!);
  r.setSource('shared', SHARED_SSRC);
  r.setSource('slot 0', SLOT_SSRC);
  for (let t = 0; t < ticks; t++) {
    r.wrote('shared', t);
    r.wrote('slot 0', t);
  }
  return r;
}

const fields = (p: Buffer): { seq: number; ts: number; ssrc: number; payload: number } => ({
  seq: p.readUInt16BE(2),
  ts: p.readUInt32BE(4),
  ssrc: p.readUInt32BE(8),
  payload: p[12]!,
});

describe('MixRouter', () => {
  test("each listener gets its own copy: its SSRC, its sequence numbers by one, timestamps 960 per tick from its base", () => {
    const r = router(3);
    r.addListener('a', 4000, 'shared');
    r.addListener('b', 4002, 'shared');
    const out = [0, 1, 2].flatMap((n) => r.process(packet(SHARED_SSRC, n)));
    expect(out.map((o) => o.port)).toEqual([4000, 4002, 4000, 4002, 4000, 4002]);
    const a = out.filter((o) => o.port === 4000).map((o) => fields(o.packet));
    expect(a).toEqual([0, 1, 2].map((n) => ({ seq: (0xaaaa0000 & 0xffff) + n, ts: 70_000 + 960 * n, ssrc: 0xaaaa0000, payload: n })));
    const b = fields(out[1]!.packet);
    expect(b.ssrc).toBe(0xbbbb0000);
    expect(b.ts).toBe(10);
  });

  test('a move takes the old encoder before its tick and the new one from it on, whatever order the packets come in', () => {
    const r = router(10);
    r.addListener('a', 4000, 'slot 0');
    r.route('a', 'shared', 5);
    // The shared encoder runs two ticks behind the slot's.
    const order: Buffer[] = [];
    for (let n = 0; n < 10; n++) {
      order.push(packet(SLOT_SSRC, n, 0, 100 + n));
      if (n >= 2) order.push(packet(SHARED_SSRC, n - 2, 0, n - 2));
    }
    order.push(packet(SHARED_SSRC, 8, 0, 8), packet(SHARED_SSRC, 9, 0, 9));
    const got = order.flatMap((p) => r.process(p)).map((o) => fields(o.packet));
    // Ticks 0-4 from the slot (payloads 100-104), 5-9 from the shared mix: never a shared packet from before tick 5.
    expect(got.map((g) => g.payload)).toEqual([100, 101, 102, 103, 104, 5, 6, 7, 8, 9]);
    expect(got.map((g) => g.ts - got[0]!.ts)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((t) => 960 * t));
    expect(new Set(got.map((g) => g.ssrc)).size).toBe(1);
    expect(got.map((g) => (g.seq - got[0]!.seq) & 0xffff)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(r.sourceOf('a')).toBe('shared');
  });

  test('an encoder left unfed for a while: its packets map to the ticks their frames were written at', () => {
    const r = new MixRouter();
    r.setSource('slot 0', SLOT_SSRC);
    for (const tick of [0, 1, 2, 40, 41]) r.wrote('slot 0', tick);
    r.addListener('a', 4000, 'slot 0');
    const ts = [0, 1, 2, 3, 4].flatMap((n) => r.process(packet(SLOT_SSRC, n))).map((o) => fields(o.packet).ts);
    expect(ts.map((t) => (t - ts[0]!) / 960)).toEqual([0, 1, 2, 40, 41]);
  });

  test("an encoder's restart (a new SSRC, new timestamps) goes on in the same stream; unknown SSRCs and frames never written are dropped", () => {
    const r = new MixRouter();
    r.setSource('shared', SHARED_SSRC);
    r.addListener('a', 4000, 'shared');
    r.wrote('shared', 0);
    r.wrote('shared', 1);
    const [first] = r.process(packet(SHARED_SSRC, 0));
    expect(r.process(packet(SHARED_SSRC, 5))).toEqual([]);
    expect(r.process(packet(0x9999, 0))).toEqual([]);
    r.setSource('shared', 0x3333);
    r.wrote('shared', 7);
    const [after] = r.process(packet(0x3333, 0, 123_456));
    expect(fields(after!.packet).ssrc).toBe(fields(first!.packet).ssrc);
    expect(fields(after!.packet).ts - fields(first!.packet).ts).toBe(7 * 960);
    expect(fields(after!.packet).seq - fields(first!.packet).seq).toBe(1);
    expect(r.dropped).toBe(2);
  });

  test('a tick is sent once: a late duplicate or an older packet is not sent again', () => {
    const r = router(3);
    r.addListener('a', 4000, 'shared');
    expect(r.process(packet(SHARED_SSRC, 1))).toHaveLength(1);
    expect(r.process(packet(SHARED_SSRC, 0))).toEqual([]);
    expect(r.process(packet(SHARED_SSRC, 1))).toEqual([]);
    expect(r.process(packet(SHARED_SSRC, 2))).toHaveLength(1);
  });

  test('a move back before the first took effect cancels it; a listener that left gets nothing', () => {
    const r = router(4);
    r.addListener('a', 4000, 'shared');
    r.route('a', 'slot 0', 2);
    r.route('a', 'shared', 3);
    expect([0, 1, 2, 3].flatMap((n) => r.process(packet(SHARED_SSRC, n)))).toHaveLength(4);
    expect([2, 3].flatMap((n) => r.process(packet(SLOT_SSRC, n)))).toEqual([]);
    r.removeListener('a');
    expect(r.process(packet(SHARED_SSRC, 3))).toEqual([]);
  });
});
