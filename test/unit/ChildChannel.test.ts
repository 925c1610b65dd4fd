import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChildChannel, type ChildChannelOptions } from '../../base/process/ChildChannel.ts';
import { ChannelClosedError, ChannelProtocolError, ChildExitedError, ChildStartError, RemoteError, RequestTimeoutError } from '../../base/process/errors.ts';
import { testProtocol, type ChildStartMode, type TestProtocol } from '../fixtures/channelTestProtocol.ts';

// A real child process (test/fixtures/channelChild.ts) on a real IPC channel.

const ENTRY = fileURLToPath(new URL('../fixtures/channelChild.ts', import.meta.url));
const START_MS = 20_000;

const options = (mode: ChildStartMode = 'ready'): ChildChannelOptions<TestProtocol> => ({
  name: 'test child',
  entry: ENTRY,
  args: [mode],
  protocol: testProtocol,
  requestTimeoutMs: 10_000,
});

const started: ChildChannel<TestProtocol>[] = [];
async function startChild(mode: ChildStartMode = 'ready', timeoutMs = START_MS): Promise<ChildChannel<TestProtocol>> {
  const channel = ChildChannel.spawn(options(mode));
  started.push(channel);
  await channel.whenReady(timeoutMs);
  return channel;
}

async function endAll(): Promise<void> {
  for (const channel of started.splice(0)) {
    channel.kill('SIGKILL');
    await channel.exited;
  }
}

describe('ChildChannel with a child that runs', () => {
  let child: ChildChannel<TestProtocol>;
  beforeAll(async () => {
    child = await startChild();
  }, START_MS);
  afterAll(endAll);

  it('answers each request with its own result, several at once', async () => {
    const sums = await Promise.all([1, 2, 3, 4].map((a) => child.request('add', { a, b: 10 })));
    expect(sums).toEqual([{ sum: 11 }, { sum: 12 }, { sum: 13 }, { sum: 14 }]);
  });

  it("delivers the child's events in order, before the answer sent after them", async () => {
    const ticks: number[] = [];
    const onTick = ({ n }: { n: number }): void => void ticks.push(n);
    child.on('tick', onTick);
    await child.request('ticks', { count: 5 });
    child.off('tick', onTick);
    expect(ticks).toEqual([1, 2, 3, 4, 5]);
  });

  it('carries a notification to the child, and its event back', async () => {
    const heard = new Promise<string>((resolve) => child.once('heard', ({ text }) => resolve(text)));
    child.notify('shout', { text: 'hello' });
    expect(await heard).toBe('HELLO');
  });

  it("rejects with the child's own error when its handler throws", async () => {
    const error = await child.request('fail', { message: 'no such thing', code: 'ENOENT' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({ name: 'RangeError', message: 'no such thing', code: 'ENOENT' });
  });

  it('refuses what its schemas do not allow: parameters in the child, answers in the parent', async () => {
    const badParams = await child.request('add', { a: 1, b: 'two' } as unknown as { a: number; b: number }).catch((e: unknown) => e);
    expect(badParams).toMatchObject({ name: 'ChannelProtocolError', message: expect.stringMatching(/^add with b: /) });
    const badAnswer = await child.request('badAnswer', undefined).catch((e: unknown) => e);
    expect(badAnswer).toBeInstanceOf(ChannelProtocolError);
    expect((badAnswer as Error).message).toMatch(/answered badAnswer with sum: /);
  });

  it('rejects a request not answered in its time, and stays usable', async () => {
    const error = await child.request('hang', undefined, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect((error as Error).message).toBe('test child did not answer hang within 300 ms');
    expect(await child.request('add', { a: 2, b: 2 })).toEqual({ sum: 4 });
  });
});

describe('ChildChannel when the child goes', () => {
  afterEach(endAll);

  it('rejects every pending request with ChildExitedError when the child exits mid-request', async () => {
    const child = await startChild();
    const hanging = child.request('hang', undefined).catch((e: unknown) => e);
    const exiting = child.request('exit', { code: 7 }).catch((e: unknown) => e);
    for (const error of await Promise.all([hanging, exiting])) {
      expect(error).toBeInstanceOf(ChildExitedError);
      expect(error).toMatchObject({ message: 'test child exited (code 7, signal null)', code: 7, signal: null });
    }
    expect(await child.exited).toEqual({ code: 7, signal: null });
    expect(child.connected).toBe(false);
    await expect(child.request('add', { a: 1, b: 1 })).rejects.toBeInstanceOf(ChildExitedError);
  });

  it('rejects pending requests with ChildExitedError when the child is killed', async () => {
    const child = await startChild();
    const hanging = child.request('hang', undefined).catch((e: unknown) => e);
    child.kill('SIGKILL');
    expect(await hanging).toMatchObject({ name: 'ChildExitedError', signal: 'SIGKILL' });
  });

  it('rejects pending requests with ChannelClosedError when the parent closes the channel', async () => {
    const child = await startChild();
    const hanging = child.request('hang', undefined).catch((e: unknown) => e);
    child.disconnect();
    const error = await hanging;
    expect(error).toBeInstanceOf(ChannelClosedError);
    expect(error).not.toBeInstanceOf(ChildExitedError);
    // The child sees the channel close and ends.
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });
});

describe('ChildChannel start (two phases)', () => {
  afterEach(endAll);

  it('a child that never says ready fails its start and is killed', async () => {
    const error = await startChild('silent', 2000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChildStartError);
    expect((error as Error).message).toBe('test child did not start within 2000 ms');
    expect(await started[0]!.exited).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('a child that dies before it is ready fails its start with its exit', async () => {
    const channel = ChildChannel.spawn(options('exit-before-ready'));
    started.push(channel);
    const error = await channel.whenReady(START_MS).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChildStartError);
    expect((error as Error).message).toBe('test child exited during start (code 3, signal null)');
    await expect(channel.ready).rejects.toBeInstanceOf(ChildStartError);
  });

  it('start() resolves with a usable channel once the child is ready', async () => {
    const channel = await ChildChannel.start(options(), START_MS);
    started.push(channel);
    expect(channel.pid).toBeGreaterThan(0);
    expect(await channel.request('add', { a: 20, b: 22 })).toEqual({ sum: 42 });
  });
});
