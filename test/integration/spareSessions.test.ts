import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionProcess } from '../../mixer/process/SessionProcess.ts';
import { SESSION_DEFAULTS } from '../../mixer/SessionTypes.ts';
import { SpareSessions } from '../../mixer/process/SpareSessions.ts';
import { descendants, sessionProcesses } from '../helpers/processes.ts';
import { until } from '../helpers/wait.ts';

/** Loopback ports the session sends its composite and mix to (nobody reads them here). */
async function sinks(): Promise<{ ports: number[]; close(): void }> {
  const sockets: Socket[] = [];
  for (let i = 0; i < 3; i++) {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    sockets.push(socket);
  }
  return { ports: sockets.map((s) => s.address().port), close: () => sockets.forEach((s) => s.close()) };
}

const spares = (): number[] => [...descendants(process.pid)].filter(([, comm]) => comm === 'mcu-spare').map(([pid]) => pid);

describe('a session process booted ahead of need', () => {
  const closers: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  it("is a room's session when one starts, another is booted after it, and nothing is left after close", async () => {
    const pool = new SpareSessions({ enabled: true });
    closers.push(() => pool.close());
    const spare = await until(() => spares()[0], 30_000, 'a booted spare');
    expect(sessionProcesses()).toEqual([]);
    const out = await sinks();
    closers.push(() => out.close());
    const [compositePort, compositeH264Port, everyoneMixPort] = out.ports as [number, number, number];
    const session: SessionProcess = await pool.start({ ...SESSION_DEFAULTS, layout: { kind: 'grid' }, compositePort, compositeH264Port, everyoneMixPort });
    closers.push(() => session.close());
    // The spare became the session: same process, now titled mcu-session, running FFmpeg.
    expect(session.pid).toBe(spare);
    await until(() => (sessionProcesses().includes(spare) ? true : undefined), 5000, 'the spare titled mcu-session');
    await until(() => ([...descendants(spare).values()].includes('ffmpeg') ? true : undefined), 15_000, 'its FFmpeg');
    // A new spare follows, a few seconds later.
    const next = await until(() => spares().find((pid) => pid !== spare), 30_000, 'the next spare');
    expect(next).not.toBe(spare);
    await session.close();
    await pool.close();
    await until(() => (spares().length + sessionProcesses().length === 0 ? true : undefined), 15_000, 'no spare and no session left');
  }, 90_000);

  it('boots none when turned off, and still starts sessions', async () => {
    const pool = new SpareSessions({ enabled: false });
    closers.push(() => pool.close());
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(spares()).toEqual([]);
    const out = await sinks();
    closers.push(() => out.close());
    const [compositePort, compositeH264Port, everyoneMixPort] = out.ports as [number, number, number];
    const session = await pool.start({ ...SESSION_DEFAULTS, layout: { kind: 'grid' }, compositePort, compositeH264Port, everyoneMixPort });
    closers.push(() => session.close());
    expect(sessionProcesses()).toContain(session.pid);
    await session.close();
    expect(spares()).toEqual([]);
  }, 90_000);
});
