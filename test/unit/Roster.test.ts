import { describe, expect, it } from 'vitest';
import { MAX_GRID_TILES } from '../../mixer/logic/layout.ts';
import { newRosterState, Roster, type RosterMember } from '../../mixer/logic/Roster.ts';

/** A decoder as the roster sees one: a name. */
type Dec = string;
type Member = RosterMember<Dec>;

const member = (id: string, receivesH264 = false): Member => ({ info: { id, video: {}, receivesH264 }, ...newRosterState() });
const frame = (bytes: number, fill = 1) => Buffer.alloc(bytes, fill);
const BLACK = frame(6, 16);
const PLACEHOLDER = frame(6, 40);
const TILES = { black: BLACK, placeholder: PLACEHOLDER };

/** A roster with member `a` in it (and those of `others`), and the frames it gave back. */
function roster(...others: string[]) {
  const released: Buffer[] = [];
  const r = new Roster<Dec, Member>((f) => released.push(f));
  const a = member('a');
  for (const m of [a, ...others.map((id) => member(id))]) r.add(m);
  return { r, a, released };
}

describe('Roster', () => {
  it('gives a tile to those with a picture, in join order, the one in focus first, at most a full grid', () => {
    const { r } = roster('b', 'c');
    expect(r.tileIds()).toEqual([]);
    // A newcomer whose first frame is coming (its standby's roster).
    expect(r.tileIds(undefined, 'b')).toEqual(['b']);
    r.videoFrame(r.get('a')!, 'va', frame(6), 0);
    r.videoFrame(r.get('c')!, 'vc', frame(6), 0);
    expect(r.tileIds()).toEqual(['a', 'c']);
    expect(r.tileIds('c')).toEqual(['c', 'a']);
    expect(r.tileIds('b')).toEqual(['a', 'c']);
    for (let i = 0; i < 30; i++) {
      const m = member(`p${i}`);
      r.add(m);
      r.videoFrame(m, 'v', frame(6), 0);
    }
    expect(r.tileIds()).toHaveLength(MAX_GRID_TILES);
  });

  it('refuses a second member of one id', () => {
    const { r } = roster();
    expect(() => r.add(member('a'))).toThrow(/already/);
  });

  it("tells a member's first picture from the next, keeping only the latest and giving the others back", () => {
    const { r, a, released } = roster();
    r.decoderStarted(a, 'video', 'v1', false);
    const f1 = frame(6, 1);
    const f2 = frame(6, 2);
    expect(r.videoFrame(a, 'v1', f1, 100)).toEqual({ is: 'first' });
    expect(r.videoFrame(a, 'v1', f2, 133)).toEqual({ is: 'next' });
    expect(a.latestFrame).toBe(f2);
    expect(a.lastFrameAt).toBe(133);
    expect(a.framesDecoded).toBe(2);
    expect(released).toEqual([f1]);
  });

  it('gives back the frames of a member who leaves, and any frame its decoder delivers after', () => {
    const { r, a, released } = roster();
    const f1 = frame(6);
    r.videoFrame(a, 'v1', f1, 0);
    expect(r.remove('a')).toBe(a);
    expect(a.removed).toBe(true);
    expect(released).toEqual([f1]);
    const late = frame(6);
    expect(r.videoFrame(a, 'v1', late, 10)).toEqual({ is: 'dropped' });
    expect(released).toEqual([f1, late]);
    expect(r.remove('a')).toBeUndefined();
    expect(r.size).toBe(0);
  });

  it('wants H.264 while someone receives it', () => {
    const { r } = roster();
    expect(r.receivesH264).toBe(false);
    r.add(member('b', true));
    expect(r.receivesH264).toBe(true);
    r.remove('b');
    expect(r.receivesH264).toBe(false);
  });

  it('lets a decoder at a new size take over at its first frame, holding the old-size frame until released', () => {
    const { r, a, released } = roster();
    r.decoderStarted(a, 'video', 'big', false);
    const old = frame(6);
    r.videoFrame(a, 'big', old, 0);
    // The move: the running one stopped, one at the new size starts in its place.
    expect(r.decoderStarted(a, 'video', 'small', true)).toBeUndefined();
    expect(a.resizingDecoder).toBe('small');
    expect(r.allMoved((d) => d === 'small')).toBe(false);
    const small = frame(2);
    expect(r.videoFrame(a, 'small', small, 500)).toEqual({ is: 'moved', close: 'big' });
    expect(a.videoDecoder).toBe('small');
    expect(a.resizingDecoder).toBeUndefined();
    expect(a.latestFrame).toBe(small);
    expect(a.heldFrame).toBe(old);
    expect(r.allMoved((d) => d === 'small')).toBe(true);
    // A compositor of the old size shows the held frame; one of the new size the new one.
    expect(r.tileFrames(['a'], 600, 3000, TILES)).toEqual([old]);
    expect(r.tileFrames(['a'], 600, 3000, { black: frame(2, 16), placeholder: frame(2, 40) })).toEqual([small]);
    r.releaseHeld();
    expect(a.heldFrame).toBeUndefined();
    expect(released).toEqual([old]);
    expect(r.tileFrames(['a'], 600, 3000, TILES)).toEqual([BLACK]);
  });

  it('closes a starting decoder replaced by a newer one of the same move', () => {
    const { r, a } = roster();
    r.decoderStarted(a, 'video', 'v1', false);
    r.decoderStarted(a, 'video', 'v2', true);
    expect(r.decoderStarted(a, 'video', 'v3', true)).toBe('v2');
    expect(r.decodersOf(a)).toEqual(['v1', 'v3']);
  });

  it('restarts a dead decoder unless it was replaced already, counting restarts', () => {
    const { r, a } = roster();
    r.decoderStarted(a, 'video', 'v1', false);
    r.decoderStarted(a, 'audio', 'a1', false);
    expect(r.decoderDied(a, 'audio', 'a1')).toBe('restart');
    expect(r.decoderDied(a, 'video', 'v1')).toBe('restart');
    r.decoderStarted(a, 'video', 'v2', true);
    expect(r.decoderDied(a, 'video', 'v2')).toBe('resize');
    expect(a.resizingDecoder).toBeUndefined();
    expect(r.decoderDied(a, 'video', 'old')).toBe('ignore');
    expect(r.decoderRestarts).toBe(3);
  });

  it('shows black before a first picture, the picture, then the placeholder once it has stalled long enough', () => {
    const { r, a } = roster();
    expect(r.tileFrames([], 0, 3000, TILES)).toEqual([BLACK]);
    expect(r.tileFrames(['a', 'gone'], 0, 3000, TILES)).toEqual([BLACK, BLACK]);
    const f = frame(6);
    r.videoFrame(a, 'v', f, 1000);
    expect(r.tileFrames(['a'], 4000, 3000, TILES)).toEqual([f]);
    expect(r.tileFrames(['a'], 4001, 3000, TILES)).toEqual([PLACEHOLDER]);
  });

  it('marks everyone removed at clear', () => {
    const { r } = roster('b');
    const all = r.clear();
    expect(all.map((m) => m.removed)).toEqual([true, true]);
    expect(r.size).toBe(0);
  });
});
