import { execFileSync } from 'node:child_process';

// Network namespaces for tests that need a link other than loopback: a server namespace and
// client namespaces, each joined to the server's by a veth pair of its own (10.<net>.<i>.0/30),
// with no address outside them. A client's downlink (the server's end of its pair) can be shaped
// with a token bucket (`tbf`: this machine has no `netem`). Needs root. Every test that makes one
// removes it (remove() is safe to call twice).

export const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const tc = (ns: string, ...args: string[]): string => ip('netns', 'exec', ns, 'tc', ...args);

export interface TestClient {
  /** Its namespace: run a client in it with `ip netns exec <ns> …`. */
  ns: string;
  /** Its address, and the server's address on its link. */
  ip: string;
  serverIp: string;
  /** The server's end of the pair: a qdisc here shapes what the client receives. */
  serverDevice: string;
}

export class TestNetwork {
  readonly server: string;
  readonly clients: TestClient[] = [];
  readonly #tag: string;
  readonly #net: number;
  #removed = false;

  /** `tag`: a few letters naming the test (in interface names, at most 15 characters in all). */
  constructor(tag: string, net = 200 + (process.pid % 50)) {
    this.#tag = `${tag.slice(0, 4)}${process.pid % 100000}`;
    this.#net = net;
    this.server = `${this.#tag}s`;
    ip('netns', 'add', this.server);
    ip('-n', this.server, 'link', 'set', 'lo', 'up');
  }

  addClient(): TestClient {
    const i = this.clients.length + 1;
    const client: TestClient = {
      ns: `${this.#tag}c${i}`,
      ip: `10.${this.#net}.${i}.2`,
      serverIp: `10.${this.#net}.${i}.1`,
      serverDevice: `${this.#tag}s${i}`,
    };
    const clientDevice = `${this.#tag}c${i}`;
    ip('netns', 'add', client.ns);
    ip('link', 'add', client.serverDevice, 'type', 'veth', 'peer', 'name', clientDevice);
    ip('link', 'set', client.serverDevice, 'netns', this.server);
    ip('link', 'set', clientDevice, 'netns', client.ns);
    ip('-n', this.server, 'addr', 'add', `${client.serverIp}/30`, 'dev', client.serverDevice);
    ip('-n', client.ns, 'addr', 'add', `${client.ip}/30`, 'dev', clientDevice);
    ip('-n', this.server, 'link', 'set', client.serverDevice, 'up');
    ip('-n', client.ns, 'link', 'set', 'lo', 'up');
    ip('-n', client.ns, 'link', 'set', clientDevice, 'up');
    this.clients.push(client);
    return client;
  }

  /**
   * Shapes what `client` receives to `kbps` with a token bucket whose queue holds `queueMs` of
   * it (a packet that finds the queue full is dropped). Called again, it changes the rate.
   */
  shapeDownlink(client: TestClient, kbps: number, queueMs = 200): void {
    // A burst of at least a few full packets, else tbf cannot pass a 1500-byte packet at all.
    const burstBytes = Math.max(6000, Math.round((kbps * 1000) / 8 / 50));
    const shape = ['tbf', 'rate', `${kbps}kbit`, 'burst', String(burstBytes), 'latency', `${queueMs}ms`];
    // A change keeps the packets queued (a replace dropped them: a loss burst the link never had).
    const shaped = tc(this.server, 'qdisc', 'show', 'dev', client.serverDevice).includes('qdisc tbf');
    tc(this.server, 'qdisc', shaped ? 'change' : 'replace', 'dev', client.serverDevice, 'root', ...shape);
  }

  /** What the shaper of `client`'s downlink has sent and dropped so far. */
  downlinkCounts(client: TestClient): { sentBytes: number; dropped: number } {
    const text = tc(this.server, '-s', 'qdisc', 'show', 'dev', client.serverDevice);
    const match = /Sent (\d+) bytes \d+ pkt \(dropped (\d+)/.exec(text);
    return { sentBytes: Number(match?.[1] ?? 0), dropped: Number(match?.[2] ?? 0) };
  }

  unshapeDownlink(client: TestClient): void {
    try {
      tc(this.server, 'qdisc', 'del', 'dev', client.serverDevice, 'root');
    } catch {
      // not shaped
    }
  }

  /** Namespaces of this network that exist now. */
  namespaces(): string[] {
    return ip('netns', 'list')
      .split('\n')
      .map((line) => line.split(' ')[0] ?? '')
      .filter((ns) => ns === this.server || this.clients.some((c) => c.ns === ns));
  }

  remove(): void {
    if (this.#removed) return;
    this.#removed = true;
    // Deleting a namespace deletes the veth ends inside it, and with them the other ends.
    for (const ns of [...this.clients.map((c) => c.ns), this.server]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // never made
      }
    }
  }
}
