/**
 * A lossy link for a real browser, without netem: a UDP relay on 127.0.0.1 between the browser's
 * TURN client and the TURN server. What goes towards the TURN server passes untouched; of what
 * comes back, the RTP packets of the chosen payload types (the mix) are dropped by the pattern
 * (lossModel.ts), counted per flow, and everything else passes.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { dropsPacket, NO_LOSS, rtpPayloadType, turnPayload, type LossPattern } from './lossModel.ts';

/** A browser opens one or two TURN allocations; more is a runaway. */
const MAX_FLOWS = 16;

export interface RelayCounts {
  flows: number;
  /** Packets of the lossy payload types towards the clients, and how many of them were dropped. */
  lossy: number;
  dropped: number;
  /** Everything else towards the clients. */
  passed: number;
}

interface Flow {
  client: RemoteInfo;
  upstream: Socket;
  /** Index of the next lossy packet in this flow (the pattern's index). */
  next: number;
}

export class LossRelay {
  readonly #socket: Socket;
  readonly #turn: { host: string; port: number };
  readonly #lossy: ReadonlySet<number>;
  readonly #flows = new Map<string, Flow>();
  readonly #counts: RelayCounts = { flows: 0, lossy: 0, dropped: 0, passed: 0 };
  #pattern: LossPattern = NO_LOSS;
  #closed = false;

  private constructor(socket: Socket, turn: { host: string; port: number }, lossyPayloadTypes: number[]) {
    this.#socket = socket;
    this.#turn = turn;
    this.#lossy = new Set(lossyPayloadTypes);
    socket.on('message', (message, client) => this.#fromClient(message, client));
  }

  /** Listens on 127.0.0.1 (a port of the system's choice) and relays to the TURN server at `turn`. */
  static async start(turn: { host: string; port: number }, lossyPayloadTypes: number[]): Promise<LossRelay> {
    const socket = createSocket('udp4');
    socket.on('error', (error) => process.stderr.write(`loss relay: ${error.message}\n`));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new LossRelay(socket, turn, lossyPayloadTypes);
  }

  get port(): number {
    return this.#socket.address().port;
  }

  /** From now on, each flow's packets counted from 0 again: a pattern drops the same packets each time it is set. */
  setPattern(pattern: LossPattern): void {
    this.#pattern = pattern;
    for (const flow of this.#flows.values()) flow.next = 0;
  }

  counts(): RelayCounts {
    return { ...this.#counts, flows: this.#flows.size };
  }

  #fromClient(message: Buffer, client: RemoteInfo): void {
    if (this.#closed) return;
    const key = `${client.address}:${client.port}`;
    let flow = this.#flows.get(key);
    if (!flow) {
      if (this.#flows.size >= MAX_FLOWS) return;
      const upstream = createSocket('udp4');
      upstream.on('error', (error) => process.stderr.write(`loss relay upstream: ${error.message}\n`));
      const created: Flow = { client, upstream, next: 0 };
      upstream.on('message', (reply) => this.#toClient(created, reply));
      upstream.bind(0, '127.0.0.1');
      this.#flows.set(key, created);
      flow = created;
    }
    flow.upstream.send(message, this.#turn.port, this.#turn.host);
  }

  #toClient(flow: Flow, datagram: Buffer): void {
    if (this.#closed) return;
    const payload = turnPayload(datagram);
    const type = payload && rtpPayloadType(payload);
    if (type !== undefined && this.#lossy.has(type)) {
      this.#counts.lossy++;
      if (dropsPacket(this.#pattern, flow.next++)) {
        this.#counts.dropped++;
        return;
      }
    } else {
      this.#counts.passed++;
    }
    this.#socket.send(datagram, flow.client.port, flow.client.address);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const flow of this.#flows.values()) flow.upstream.close();
    this.#socket.close();
  }
}
