import { spawn, type ChildProcess, type Serializable } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { z } from 'zod';
import { createLogger } from '../log/logger.ts';
import { TypedEmitter } from '../TypedEmitter.ts';
import {
  describeIssues,
  toParentSchema,
  type ChannelProtocol,
  type EventData,
  type EventName,
  type NotificationName,
  type Params,
  type RequestName,
  type Result,
  type ToChild,
} from './channelProtocol.ts';
import { ChannelClosedError, ChannelProtocolError, ChildExitedError, ChildStartError, RemoteError, RequestTimeoutError } from './errors.ts';
import { withParentDeathSignal } from './parentDeath.ts';

const log = createLogger('ChildChannel');

/** tsx's loader, by path: helper processes run the TypeScript sources like the server does. */
export const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface ChildChannelOptions<P extends ChannelProtocol> {
  /** Names the child in errors and logs: "session process". */
  name: string;
  /** The child's module; it answers with a ParentChannel. */
  entry: string;
  args?: readonly string[];
  protocol: P;
  /** `advanced` (structured clone) carries what JSON cannot; handles travel with either. */
  serialization?: 'json' | 'advanced';
  /** How long a request waits for its answer unless it says otherwise (Infinity: no limit). */
  requestTimeoutMs: number;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Each event of the protocol with the handle (a pipe, a socket) that came with it, if any. */
export type ChannelEvents<P extends ChannelProtocol> = { [E in EventName<P>]: [data: EventData<P, E>, handle: Socket | undefined] };

interface Pending {
  method: string;
  result: z.ZodType;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The parent's end of a channel to a child process of ours (mediasoup's Worker and Channel):
 * numbered requests with typed methods and answers, notifications, and the child's events.
 * Starting is two-phase: the process is spawned, and is usable once it says it is ready; one
 * that dies or stays silent instead fails its start with a ChildStartError. A request still
 * unanswered when the child dies is rejected with a ChildExitedError, when the parent closes
 * the channel with a ChannelClosedError, and after its time with a RequestTimeoutError.
 */
export class ChildChannel<P extends ChannelProtocol> extends TypedEmitter<ChannelEvents<P>> {
  readonly #options: ChildChannelOptions<P>;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closedError: ChannelClosedError | undefined;
  #exit: ChildExit | undefined;
  #markReady!: () => void;
  /** Resolves when the child says it is ready; rejects with a ChildStartError if it exits first. */
  readonly ready: Promise<void>;
  /** Resolves when the child process has exited (never rejects). */
  readonly exited: Promise<ChildExit>;

  /** Phase one: the process starts; it is usable once `ready` resolves (see whenReady). */
  static spawn<P extends ChannelProtocol>(options: ChildChannelOptions<P>): ChildChannel<P> {
    return new ChildChannel(options);
  }

  /** Both phases: resolves once the child is ready; a child not ready in `timeoutMs` is killed. */
  static async start<P extends ChannelProtocol>(options: ChildChannelOptions<P>, timeoutMs: number): Promise<ChildChannel<P>> {
    const channel = new ChildChannel(options);
    await channel.whenReady(timeoutMs);
    return channel;
  }

  private constructor(options: ChildChannelOptions<P>) {
    super();
    this.#options = options;
    const [file, args] = withParentDeathSignal(process.execPath, ['--import', TSX_LOADER, options.entry, ...(options.args ?? [])]);
    this.#child = spawn(file, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: options.serialization ?? 'json' });
    let markExited!: (exit: ChildExit) => void;
    this.exited = new Promise((resolve) => (markExited = resolve));
    this.ready = new Promise<void>((resolve, reject) => {
      this.#markReady = resolve;
      void this.exited.then(({ code, signal }) => reject(new ChildStartError(`${options.name} exited during start (code ${code}, signal ${signal})`)));
    });
    this.ready.catch(() => {});
    this.#child.on('message', (message: Serializable, handle: unknown) => this.#onMessage(message, handle as Socket | undefined));
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (this.#exit) return;
      this.#exit = { code, signal };
      this.#rejectPending(new ChildExitedError(`${options.name} exited (code ${code}, signal ${signal})`, code, signal));
      markExited(this.#exit);
    };
    this.#child.once('exit', onExit);
    this.#child.on('error', (error) => {
      log.error({ err: error, child: options.name }, 'child process failed');
      // Never started: no `exit` follows.
      if (this.#child.pid === undefined) onExit(null, null);
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Whether requests can still be sent: the child runs and the channel is open. */
  get connected(): boolean {
    return this.#closedError === undefined && this.#child.connected;
  }

  get hasExited(): boolean {
    return this.#exit !== undefined;
  }

  /** Waits for `ready` at most `timeoutMs`; a child still silent by then is killed (SIGKILL). */
  async whenReady(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.kill('SIGKILL');
        reject(new ChildStartError(`${this.#options.name} did not start within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      await Promise.race([this.ready, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  request<M extends RequestName<P>>(method: M, params: Params<P, M>, options: { timeoutMs?: number } = {}): Promise<Result<P, M>> {
    if (!this.connected) return Promise.reject(this.#closedError ?? new ChannelClosedError(`${this.#options.name} is gone`));
    const id = this.#nextId++;
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs;
    return new Promise((resolve, reject) => {
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => {
            this.#pending.delete(id);
            reject(new RequestTimeoutError(`${this.#options.name} did not answer ${method} within ${timeoutMs} ms`));
          }, timeoutMs)
        : undefined;
      const result = this.#options.protocol.requests[method]!.result;
      this.#pending.set(id, { method, result, resolve: resolve as (value: unknown) => void, reject, timer });
      this.#send({ kind: 'request', id, method, params });
    });
  }

  /** Sends without waiting for an answer; dropped once the channel is closed. */
  notify<N extends NotificationName<P>>(method: N, params: z.input<P['notifications'][N]>): void {
    if (this.connected) this.#send({ kind: 'notification', method, params });
  }

  kill(signal: NodeJS.Signals): boolean {
    return this.#exit === undefined && this.#child.kill(signal);
  }

  /** Closes the channel from this side (the child sees `disconnect`); unanswered requests are rejected. */
  disconnect(): void {
    this.#rejectPending(new ChannelClosedError(`the channel to the ${this.#options.name} was closed`));
    if (this.#child.connected) this.#child.disconnect();
  }

  #rejectPending(error: ChannelClosedError): void {
    this.#closedError ??= error;
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.#pending.clear();
  }

  #send(message: ToChild): void {
    // The callback keeps a send that races the child's exit from becoming an `error` event.
    this.#child.send(message, (error) => {
      if (error) log.debug({ err: error, child: this.#options.name }, 'message not delivered');
    });
  }

  #onMessage(raw: Serializable, handle: Socket | undefined): void {
    const parsed = toParentSchema.safeParse(raw);
    if (!parsed.success) return this.#refuse(`a message the channel does not know (${describeIssues(parsed.error)})`, handle);
    const message = parsed.data;
    switch (message.kind) {
      case 'ready':
        this.#markReady();
        return;
      case 'response': {
        const pending = this.#pending.get(message.id);
        // Its request timed out or was rejected already.
        if (!pending) return;
        this.#pending.delete(message.id);
        clearTimeout(pending.timer);
        if (message.error) return pending.reject(new RemoteError(message.error.name, message.error.message, message.error.code));
        const result = pending.result.safeParse(message.result);
        if (result.success) pending.resolve(result.data);
        else pending.reject(new ChannelProtocolError(`${this.#options.name} answered ${pending.method} with ${describeIssues(result.error)}`));
        return;
      }
      case 'event': {
        const events = this.#options.protocol.events;
        const schema = Object.hasOwn(events, message.event) ? events[message.event] : undefined;
        if (!schema) return this.#refuse(`an unknown event ${message.event}`, handle);
        const data = schema.safeParse(message.data);
        if (!data.success) return this.#refuse(`event ${message.event} with ${describeIssues(data.error)}`, handle);
        const event = message.event as EventName<P>;
        this.safeEmit(event, ...([data.data, handle] as ChannelEvents<P>[typeof event]));
        return;
      }
    }
  }

  #refuse(what: string, handle: Socket | undefined): void {
    log.error({ child: this.#options.name }, `${this.#options.name} sent ${what}`);
    handle?.destroy();
  }
}
