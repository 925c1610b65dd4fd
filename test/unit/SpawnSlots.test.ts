import { describe, expect, it } from 'vitest';
import { SpawnSlots } from '../../mixer/logic/SpawnSlots.ts';

/** Lets resolved promises' callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('SpawnSlots', () => {
  it('lets one waiter go per tick, first come first served', async () => {
    const slots = new SpawnSlots();
    const order: string[] = [];
    for (const name of ['video', 'audio', 'standby']) void slots.take().then(() => order.push(name));
    expect(slots.waiting).toBe(3);
    await settle();
    expect(order).toEqual([]);
    slots.tick();
    await settle();
    expect(order).toEqual(['video']);
    slots.tick();
    slots.tick();
    slots.tick();
    await settle();
    expect(order).toEqual(['video', 'audio', 'standby']);
  });

  it('lets everyone go at close, and anyone after at once', async () => {
    const slots = new SpawnSlots();
    let gone = 0;
    void slots.take().then(() => gone++);
    void slots.take().then(() => gone++);
    slots.close();
    await settle();
    expect(gone).toBe(2);
    await slots.take();
    expect(slots.waiting).toBe(0);
  });
});
