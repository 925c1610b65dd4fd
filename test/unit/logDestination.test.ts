import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LogDestination, type WriteNow } from '../../base/log/logDestination.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/logAfterReaderGone.ts', import.meta.url));

/**
 * A fake descriptor (named as such): a full pipe's EAGAIN and a short write cannot be made to
 * happen on cue from here. `fail` makes every write throw that error code; `short` caps the
 * bytes one write takes.
 */
function fakeFd(): { write: WriteNow; text: () => string; calls: number; fail?: string; short?: number } {
  const out: string[] = [];
  const fd = {
    calls: 0,
    fail: undefined as string | undefined,
    short: undefined as number | undefined,
    text: () => out.join(''),
    write: ((_fd, data) => {
      fd.calls++;
      if (fd.fail) throw Object.assign(new Error(fd.fail), { code: fd.fail });
      const n = Math.min(fd.short ?? Infinity, data.length);
      fd.short = undefined;
      out.push(data.subarray(0, n).toString());
      return n;
    }) as WriteNow,
  };
  return fd;
}

/** A LogDestination on stderr's number that writes through a fake descriptor, set up as given. */
function onFakeFd(setup: { fail?: string; short?: number }): { fd: ReturnType<typeof fakeFd>; destination: LogDestination } {
  const fd = Object.assign(fakeFd(), setup);
  return { fd, destination: new LogDestination(2, fd.write) };
}

describe('LogDestination', () => {
  it('goes on after a short write until the line is whole', () => {
    const { fd, destination } = onFakeFd({ short: 3 });
    destination.write('first\n');
    destination.write('second\n');
    expect(fd.text()).toBe('first\nsecond\n');
    expect(fd.calls).toBe(3);
  });

  it('keeps lines while the reader is slow (EAGAIN), in order, trying once per line', () => {
    const { fd, destination } = onFakeFd({ fail: 'EAGAIN' });
    destination.write('a\n');
    destination.write('b\n');
    expect(fd.calls).toBe(2);
    fd.fail = undefined;
    destination.write('c\n');
    expect(fd.text()).toBe('a\nb\nc\n');
    expect(destination.dropped).toBe(0);
  });

  it('drops and counts lines past 64 KiB kept, and says so once lines fit again', () => {
    const { fd, destination } = onFakeFd({ fail: 'EAGAIN' });
    const line = `${'x'.repeat(1023)}\n`;
    for (let i = 0; i < 100; i++) destination.write(line);
    expect(destination.dropped).toBe(100 - 64);
    fd.fail = undefined;
    destination.write('after\n');
    const lines = fd.text().split('\n');
    expect(lines.filter((l) => l === line.trim())).toHaveLength(64);
    expect(JSON.parse(lines.at(-3)!)).toMatchObject({ level: 40, msg: '36 log lines dropped: the log reader was too slow' });
    expect(lines.at(-2)).toBe('after');
    expect(destination.dropped).toBe(0);
  });

  it('stops writing once the reader has gone (EPIPE)', () => {
    const { fd, destination } = onFakeFd({ fail: 'EPIPE' });
    destination.write('lost\n');
    destination.write('not tried\n');
    destination.flushSync();
    expect(destination.closed).toBe(true);
    expect(fd.calls).toBe(1);
  });

  it('lets a real process whose stderr reader has gone log and exit at once', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], { stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      await once(child.stdout!, 'data');
      // The reader goes: the child's next writes to stderr meet a closed pipe.
      child.stderr!.destroy();
      const exited = once(child, 'exit');
      child.stdin!.write('go\n');
      const code = await Promise.race([exited.then(([c]) => c as number | null), new Promise((r) => setTimeout(() => r('hung'), 10_000))]);
      expect(code).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 20_000);
});
