/**
 * Debian's coturn on 127.0.0.1 for a bench (README: TURN), relaying only to the mixer on
 * loopback, with a secret made for the run. Its log goes to a file in `dir`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exited, sleep, withTimeout } from '../lib/processes.ts';

const START_MS = 15_000;

export interface Coturn {
  port: number;
  secret: string;
  stop(): Promise<void>;
}

/** A UDP port on 127.0.0.1 that was free a moment ago. */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

function coturnArgs(port: number, secret: string, dir: string): string[] {
  return [
    '-n', // no configuration file
    '--listening-ip', '127.0.0.1', '--listening-port', String(port), '--relay-ip', '127.0.0.1',
    // Loopback peers (the mixer) only; --allow-loopback-peers needs --no-cli.
    '--allow-loopback-peers', '--no-cli', '--allowed-peer-ip', '127.0.0.1', '--denied-peer-ip', '0.0.0.0-255.255.255.255',
    '--use-auth-secret', '--static-auth-secret', secret, '--realm', 'mcu.bench', '--fingerprint',
    '--no-tls', '--no-dtls', '--no-tcp', '--no-tcp-relay',
    '--userdb', join(dir, 'turndb'), '--pidfile', join(dir, 'turnserver.pid'),
    '--log-file', join(dir, 'turnserver.log'), '--simple-log',
  ];
}

export async function startCoturn(dir: string): Promise<Coturn> {
  const port = await freeUdpPort();
  const secret = randomBytes(24).toString('hex');
  const child: ChildProcess = spawn(process.env.MCU_TURNSERVER ?? 'turnserver', coturnArgs(port, secret, dir), { stdio: 'ignore' });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`turnserver exited (${code}): ${log().slice(-800)}`)));
  });
  const log = (): string => {
    try {
      return readFileSync(join(dir, 'turnserver.log'), 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM'); // coturn's own way to stop (it ignores SIGINT)
    await withTimeout(exited(child), 5000, 'turnserver exit').catch(async () => {
      child.kill('SIGKILL');
      await exited(child);
    });
  };
  const started = (async () => {
    for (let waited = 0; !/Total General servers/.test(log()); waited += 100) {
      if (waited > START_MS) throw new Error(`turnserver did not start within ${START_MS / 1000} s: ${log().slice(-800)}`);
      await sleep(100);
    }
  })();
  try {
    await Promise.race([started, failed]);
  } catch (error) {
    await stop();
    throw error;
  }
  failed.catch(() => {}); // its exit after a stop is expected
  return { port, secret, stop };
}
