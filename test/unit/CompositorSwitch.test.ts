import { describe, expect, it } from 'vitest';
import { compositorPlan, CompositorSwitch, type SwitchAction } from '../../mixer/logic/CompositorSwitch.ts';

const SIZE = { width: 640, height: 360 };
const plan = (...ids: string[]) => compositorPlan(ids, 'grid', false, SIZE);
const kinds = (actions: SwitchAction[]): string[] => actions.map((a) => ('id' in a ? `${a.do} ${a.id}` : a.do));

/** A switch with a live compositor for `ids` (id 1) and its first standby asked for. */
function liveWith(...ids: string[]): CompositorSwitch {
  const s = new CompositorSwitch();
  s.compose(plan(...ids), 0);
  return s;
}

describe('CompositorSwitch', () => {
  it('makes the first compositor live at once, at full priority, and asks for a standby of its roster', () => {
    const s = new CompositorSwitch();
    const actions = s.compose(plan(), 0);
    expect(actions).toEqual([
      { do: 'start', id: 1, plan: plan(), background: false },
      { do: 'raise', id: 1, when: 'reading' },
      { do: 'announce', id: 1, warm: false },
      { do: 'live', id: 1, ids: [] },
      { do: 'standby', plan: plan() },
    ]);
    expect(s.live?.id).toBe(1);
    expect(s.pending).toBeUndefined();
    expect(s.nextDeadline()).toBeUndefined();
  });

  it('composes nothing for the plan it composes already, and again when forced (a keyframe)', () => {
    const s = liveWith('a');
    expect(s.compose(plan('a'), 10)).toEqual([]);
    expect(kinds(s.compose(plan('a'), 20, true))).toEqual(['start 2', 'raise 2', 'announce 2']);
    expect(s.pending?.id).toBe(2);
  });

  it('starts a new roster beside the live one, below it, and switches when the server says so', () => {
    const s = liveWith('a');
    const start = s.compose(plan('a', 'b'), 100);
    expect(start[0]).toEqual({ do: 'start', id: 2, plan: plan('a', 'b'), background: true });
    expect(s.feeding.map((r) => r.id)).toEqual([1, 2]);
    expect(s.switched(1, 150)).toEqual([]);
    expect(s.switched(2, 400)).toEqual([
      { do: 'raise', id: 2, when: 'now' },
      { do: 'close', id: 1 },
      { do: 'live', id: 2, ids: ['a', 'b'] },
    ]);
    expect(s.live?.id).toBe(2);
    expect(s.feeding.map((r) => r.id)).toEqual([2]);
  });

  it('promotes a standby at its first frame: taken warm, raised, no new FFmpeg', () => {
    const s = liveWith('a');
    // A newcomer's standby, started at a spawn slot before its first frame.
    expect(s.standby(plan('a', 'b'), 50)).toEqual([{ do: 'start', id: 2, plan: plan('a', 'b'), background: true }]);
    // Its first frame: the roster with it is composed by the standby.
    expect(s.compose(plan('a', 'b'), 300)).toEqual([
      { do: 'raise', id: 2, when: 'now' },
      { do: 'announce', id: 2, warm: true },
    ]);
    expect(s.pending).toEqual({ id: 2, plan: plan('a', 'b'), since: 300 });
    expect(s.standbys).toEqual([]);
    expect(kinds(s.switched(2, 350))).toEqual(['raise 2', 'close 1', 'live 2']);
  });

  it('replaces the compositor that is starting when the roster changes again meanwhile', () => {
    const s = liveWith('a');
    s.compose(plan('a', 'b'), 100);
    const again = s.compose(plan('a', 'b', 'c'), 200);
    expect(kinds(again)).toEqual(['close 2', 'start 3', 'raise 3', 'announce 3']);
    expect(s.switched(2, 250)).toEqual([]);
    expect(kinds(s.switched(3, 500))).toEqual(['raise 3', 'close 1', 'live 3']);
  });

  it('takes a member who leaves while its compositor starts out: the roster without it replaces that compositor', () => {
    const s = liveWith('a', 'b');
    s.compose(plan('a', 'b', 'c'), 100);
    // c leaves before the switch: back to the live roster's plan, composed again (the pending one goes).
    expect(kinds(s.compose(plan('a', 'b'), 150))).toEqual(['close 2', 'start 3', 'raise 3', 'announce 3']);
    expect(s.target?.plan.ids).toEqual(['a', 'b']);
  });

  it('switches anyway after the fallback if the server never does, then asks for a standby a second later', () => {
    const s = liveWith('a');
    s.compose(plan('a', 'b'), 1000);
    expect(s.nextDeadline()).toBe(4000);
    expect(s.due(3999)).toEqual([]);
    expect(kinds(s.due(4000))).toEqual(['raise 2', 'close 1', 'live 2']);
    expect(s.nextDeadline()).toBe(5000);
    expect(s.due(5000)).toEqual([{ do: 'standby', plan: plan('a', 'b'), ifLive: 2 }]);
    expect(s.nextDeadline()).toBeUndefined();
  });

  it('starts no standby for a roster no longer live by the time a spawn slot comes', () => {
    const s = liveWith('a');
    s.compose(plan('a', 'b'), 0);
    s.switched(2, 100);
    const [standby] = s.due(1100);
    expect(standby).toEqual({ do: 'standby', plan: plan('a', 'b'), ifLive: 2 });
    s.compose(plan('a', 'b', 'c'), 1120);
    s.switched(3, 1200);
    expect(s.standby(plan('a', 'b'), 1210, 2)).toEqual([]);
    expect(s.standby(plan('a', 'b', 'c'), 1210, 3)).toHaveLength(1);
  });

  it('keeps at most two standbys, closing the oldest, and one per plan', () => {
    const s = liveWith('a');
    s.standby(plan('a'), 10);
    expect(s.standby(plan('a'), 11)).toEqual([]);
    s.standby(plan('a', 'b'), 20);
    expect(s.standby(plan('a', 'c'), 30)).toEqual([
      { do: 'start', id: 4, plan: plan('a', 'c'), background: true },
      { do: 'close', id: 2 },
    ]);
    expect(s.standbys.map((r) => r.id)).toEqual([3, 4]);
  });

  it('forgets a standby that died, and starts cold for its roster', () => {
    const s = liveWith('a');
    s.standby(plan('a', 'b'), 10);
    expect(s.died(2, 20)).toBe('standby');
    expect(s.restarts).toBe(0);
    expect(kinds(s.compose(plan('a', 'b'), 30))).toEqual(['start 3', 'raise 3', 'announce 3']);
  });

  it('restarts after a delay when the live compositor dies, as the first one', () => {
    const s = liveWith('a');
    expect(s.died(1, 1000)).toBe('live');
    expect(s.restarts).toBe(1);
    expect(s.feeding).toEqual([]);
    expect(s.nextDeadline()).toBe(1300);
    expect(s.due(1300)).toEqual([{ do: 'restart' }]);
    const actions = s.compose(plan('a'), 1300, true);
    expect(actions).toContainEqual({ do: 'start', id: 2, plan: plan('a'), background: false });
    expect(actions).toContainEqual({ do: 'live', id: 2, ids: ['a'] });
  });

  it('drops the switch to a pending compositor that died (no fallback to it), and restarts once for two deaths', () => {
    const s = liveWith('a');
    s.compose(plan('a', 'b'), 0);
    expect(s.died(2, 100)).toBe('pending');
    expect(s.died(1, 200)).toBe('live');
    expect(s.died(1, 210)).toBe('gone');
    expect(s.restarts).toBe(2);
    expect(s.nextDeadline()).toBe(400);
    expect(s.due(3000)).toEqual([{ do: 'restart' }]);
  });

  it('hands every compositor over at close, and decides nothing after', () => {
    const s = liveWith('a');
    s.compose(plan('a', 'b'), 0);
    s.standby(plan('a', 'b', 'c'), 0);
    expect(s.close().sort()).toEqual([1, 2, 3]);
    expect(s.compose(plan('x'), 10)).toEqual([]);
    expect(s.standby(plan('x'), 10)).toEqual([]);
    expect(s.nextDeadline()).toBeUndefined();
    expect(s.close()).toEqual([]);
  });

  it('tells plans apart by tiles, layout, H.264 and tile-source size', () => {
    const keys = new Set(
      [plan('a'), plan('b'), compositorPlan(['a'], 'speaker', false, SIZE), compositorPlan(['a'], 'grid', true, SIZE), compositorPlan(['a'], 'grid', false, { width: 320, height: 180 })].map((p) => p.key),
    );
    expect(keys.size).toBe(5);
    expect(plan('a').key).toBe(plan('a').key);
  });
});
