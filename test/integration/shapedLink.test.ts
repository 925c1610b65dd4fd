import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { TestNetwork } from '../helpers/netns.ts';

// The shaped links the ladder's tests put viewers behind (test/helpers/netns.ts): a token bucket
// on the server's end of a client's pair carries what it is set to, and drops the rest.

const run = promisify(execFile);

/** Receives UDP on `port` in `ns` for `ms`, and prints the bytes received. */
const RECEIVER = `
const s = require('node:dgram').createSocket('udp4'); let bytes = 0;
s.on('message', (m) => (bytes += m.length));
s.bind(Number(process.argv[2]), process.argv[1], () => setTimeout(() => { console.log(bytes); s.close(); }, Number(process.argv[3])));`;
/** Sends `kbps` of 1000-byte UDP packets to host:port for `ms`. */
const SENDER = `
const s = require('node:dgram').createSocket('udp4'); const [host, port, kbps, ms] = process.argv.slice(1);
const packet = Buffer.alloc(1000); const start = Date.now(); let sent = 0;
const t = setInterval(() => {
  const due = Math.floor(((Date.now() - start) * Number(kbps)) / 8);
  while (sent < due) { s.send(packet, Number(port), host); sent += 1000; }
  if (Date.now() - start >= Number(ms)) { clearInterval(t); setTimeout(() => s.close(), 100); }
}, 5);`;

async function blast(network: TestNetwork, kbps: number, ms: number): Promise<number> {
  const client = network.clients[0]!;
  const port = 40_000 + (process.pid % 1000);
  const receiving = run('ip', ['netns', 'exec', client.ns, process.execPath, '-e', RECEIVER, client.ip, String(port), String(ms + 1000)]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await run('ip', ['netns', 'exec', network.server, process.execPath, '-e', SENDER, client.ip, String(port), String(kbps), String(ms)]);
  const { stdout } = await receiving;
  return (Number(stdout.trim()) * 8) / ms;
}

describe('a shaped downlink in network namespaces', () => {
  const network = new TestNetwork('shap');
  const client = network.addClient();
  afterAll(() => network.remove());

  it('carries about its rate of a 2 Mbit/s stream and drops the rest, then all of it once opened up', { timeout: 60_000 }, async () => {
    network.shapeDownlink(client, 300);
    const shaped = await blast(network, 2000, 2000);
    const { dropped } = network.downlinkCounts(client);
    console.log(`shaped link: 2000 kbit/s sent, ${shaped.toFixed(0)} kbit/s received at 300 kbit/s, ${dropped} packets dropped`);
    expect(shaped).toBeGreaterThan(200);
    expect(shaped).toBeLessThan(450);
    expect(dropped).toBeGreaterThan(100);

    network.shapeDownlink(client, 3000);
    const opened = await blast(network, 2000, 1500);
    console.log(`opened up to 3000 kbit/s: ${opened.toFixed(0)} kbit/s received`);
    expect(opened).toBeGreaterThan(1500);
  });

  it('leaves nothing behind', () => {
    network.remove();
    expect(network.namespaces()).toEqual([]);
  });
});
