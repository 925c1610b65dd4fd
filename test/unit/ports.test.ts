import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, test } from 'vitest';
import { allocateRtpPort, boundUdpPorts, releaseRtpPort, RESERVATIONS_DIR } from '../../base/net/ports.ts';

// Captured from this machine's /proc/net/udp (columns after `inode` trimmed).
const PROC_NET_UDP = [
  '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '  123: 0100007F:5DC0 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1001',
  '  124: 0100007F:5DC1 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1002',
  '  125: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1003',
  '  126: 0A00020F:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1004',
  '',
].join('\n');

test('boundUdpPorts() reads the ports bound on 127.0.0.1 or on any address, in hex', () => {
  expect([...boundUdpPorts(PROC_NET_UDP)].sort()).toEqual([24000, 24001, 5353]);
});

test('boundUdpPorts() of an empty or unreadable table is empty', () => {
  expect(boundUdpPorts('').size).toBe(0);
  expect(boundUdpPorts('header only\n').size).toBe(0);
});

describe('allocateRtpPort()', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
  });
  /** Hands out `ports` in turn. */
  const inTurn = (...ports: number[]) => () => ports.shift() ?? 30000;
  const mark = (port: number, pid: number): void => writeFileSync(join(RESERVATIONS_DIR, String(port)), String(pid));

  it('skips a port that another live process has handed out, and marks its own', async () => {
    const other = spawn('sleep', ['30']);
    children.push(other);
    mkdirSync(RESERVATIONS_DIR, { recursive: true });
    mark(31000, other.pid!);
    const port = await allocateRtpPort(inTurn(31000, 31002));
    expect(port).toBe(31002);
    expect(readFileSync(join(RESERVATIONS_DIR, '31002'), 'utf8')).toBe(String(process.pid));
    releaseRtpPort(port);
    expect(existsSync(join(RESERVATIONS_DIR, '31002'))).toBe(false);
    // Another process's mark stays.
    expect(readFileSync(join(RESERVATIONS_DIR, '31000'), 'utf8')).toBe(String(other.pid));
    rmSync(join(RESERVATIONS_DIR, '31000'));
  });

  it('takes over the mark of a process that has died without releasing it', async () => {
    const dead = spawn('true');
    await once(dead, 'exit');
    mkdirSync(RESERVATIONS_DIR, { recursive: true });
    mark(31004, dead.pid!);
    const port = await allocateRtpPort(inTurn(31004));
    expect(port).toBe(31004);
    releaseRtpPort(port);
  });

  it('clears, in a process that starts handing out ports, the marks of processes killed before they released theirs', async () => {
    const dead = spawn('true');
    await once(dead, 'exit');
    mkdirSync(RESERVATIONS_DIR, { recursive: true });
    mark(31010, dead.pid!);
    const ports = new URL('../../base/net/ports.ts', import.meta.url).pathname;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `await (await import('${ports}')).allocateRtpPort();`]);
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(existsSync(join(RESERVATIONS_DIR, '31010'))).toBe(false);
  });

  it('skips a port that something outside the project has bound', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(31006, '127.0.0.1', resolve));
    try {
      const port = await allocateRtpPort(inTurn(31006, 31008));
      expect(port).toBe(31008);
      expect(existsSync(join(RESERVATIONS_DIR, '31006'))).toBe(false);
      releaseRtpPort(port);
    } finally {
      socket.close();
    }
  });
});
