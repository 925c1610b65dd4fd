import { describe, expect, it } from 'vitest';
import { RungDemand } from '../../src/ladder/RungDemand.ts';

describe('RungDemand: which lower rungs are encoded', () => {
  it('wants the rungs viewers receive (as indices below the top), never the top or audio only', () => {
    const demand = new RungDemand(20_000);
    demand.set('a', 0, 0);
    expect(demand.wanted(0)).toEqual([]);
    demand.set('b', 2, 0);
    demand.set('c', 1, 0);
    expect(demand.wanted(0)).toEqual([0, 1]);
  });

  it('keeps a rung its last viewer left for the linger time, then lets it go', () => {
    const demand = new RungDemand(20_000);
    demand.set('a', 2, 0);
    demand.set('b', 2, 0);
    demand.set('a', 1, 1000);
    expect(demand.wanted(1000)).toEqual([0, 1]);
    expect(demand.nextExpiry()).toBeUndefined();
    demand.set('b', undefined, 5000);
    expect(demand.nextExpiry()).toBe(25_000);
    expect(demand.wanted(24_999)).toEqual([0, 1]);
    expect(demand.wanted(25_000)).toEqual([0]);
    expect(demand.nextExpiry()).toBeUndefined();
  });

  it('a viewer back on a lingering rung keeps it for good', () => {
    const demand = new RungDemand(20_000);
    demand.set('a', 1, 0);
    demand.set('a', 0, 1000);
    demand.set('a', 1, 2000);
    expect(demand.wanted(60_000)).toEqual([0]);
    expect(demand.nextExpiry()).toBeUndefined();
  });
});
