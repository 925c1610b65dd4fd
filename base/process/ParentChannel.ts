import type { Socket } from 'node:net';
import type { z } from 'zod';
import { createLogger, type Logger } from '../log/logger.ts';
import {
  describeIssues,
  toChildSchema,
  type ChannelProtocol,
  type EventData,
  type EventName,
  type NotificationData,
  type NotificationName,
  type RequestName,
  type ToParent,
  type WireError,
} from './channelProtocol.ts';
import { ChannelProtocolError } from './errors.ts';

/** What the child does for each request: the answer, or a throw that rejects the parent's request. */
export type RequestHandlers<P extends ChannelProtocol> = {
  [M in RequestName<P>]: (params: z.output<P['requests'][M]['params']>) => Promise<z.input<P['requests'][M]['result']>> | z.input<P['requests'][M]['result']>;
};

export type NotificationHandlers<P extends ChannelProtocol> = {
  [N in NotificationName<P>]: (params: NotificationData<P, N>) => void;
};

export interface ParentChannelOptions<P extends ChannelProtocol> {
  /** Names this process in logs: "session process". */
  name: string;
  protocol: P;
  requests: RequestHandlers<P>;
  notifications: NotificationHandlers<P>;
  /** Called once a request's answer is sent (`error` set if its handler threw). */
  onAnswered?: (method: RequestName<P>, error: Error | undefined) => void;
}

function toWire(error: Error): WireError {
  const code = (error as NodeJS.ErrnoException).code;
  return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
}

/**
 * The child's end of a ChildChannel: answers the parent's requests with its handlers, runs its
 * notifications, sends events. Call `ready()` once the process can take requests.
 */
export class ParentChannel<P extends ChannelProtocol> {
  readonly #options: ParentChannelOptions<P>;
  readonly #send: NonNullable<typeof process.send>;
  readonly #log: Logger;

  constructor(options: ParentChannelOptions<P>) {
    if (!process.send) throw new Error(`the ${options.name} runs only as a child process with an IPC channel`);
    this.#send = process.send.bind(process);
    this.#options = options;
    this.#log = createLogger(options.name);
    process.on('message', (message: unknown) => this.#onMessage(message));
  }

  /** Tells the parent this process can take requests (the second phase of its start). */
  ready(): void {
    this.#post({ kind: 'ready' });
  }

  /**
   * Sends an event, with a handle if given. The handle is closed here once sent: the parent
   * owns it from then on. One already gone (destroyed) goes without, and so does the event
   * when the handle cannot be sent.
   */
  emit<E extends EventName<P>>(event: E, data: z.input<P['events'][E]> & EventData<P, E>, handle?: Socket): void {
    const message: ToParent = { kind: 'event', event, data };
    if (!handle || handle.destroyed) return this.#post(message);
    try {
      if (process.connected) this.#send(message, handle, undefined, (error) => error && this.#log.warn({ err: error, event }, 'a handle was not delivered'));
    } catch (error) {
      this.#log.warn({ err: error, event }, 'could not hand over a handle');
      this.#post(message);
    }
  }

  #post(message: ToParent): void {
    // The parent may be gone at any time; what it can no longer hear is dropped.
    if (process.connected) this.#send(message, undefined, undefined, () => {});
  }

  #onMessage(raw: unknown): void {
    const parsed = toChildSchema.safeParse(raw);
    if (!parsed.success) {
      this.#log.error({ issues: describeIssues(parsed.error) }, 'a message the channel does not know');
      return;
    }
    const message = parsed.data;
    if (message.kind === 'request') void this.#answer(message.id, message.method, message.params);
    else this.#notify(message.method, message.params);
  }

  async #answer(id: number, method: string, rawParams: unknown): Promise<void> {
    const { protocol, requests } = this.#options;
    let result: unknown;
    let error: Error | undefined;
    try {
      if (!Object.hasOwn(protocol.requests, method)) throw new ChannelProtocolError(`unknown request ${method}`);
      const params = protocol.requests[method]!.params.safeParse(rawParams);
      if (!params.success) throw new ChannelProtocolError(`${method} with ${describeIssues(params.error)}`);
      const handler = requests[method] as (params: unknown) => unknown;
      result = await handler(params.data);
    } catch (thrown) {
      error = thrown instanceof Error ? thrown : new Error(String(thrown));
    }
    this.#post(error ? { kind: 'response', id, result: undefined, error: toWire(error) } : { kind: 'response', id, result });
    this.#options.onAnswered?.(method as RequestName<P>, error);
  }

  #notify(method: string, rawParams: unknown): void {
    const { protocol, notifications } = this.#options;
    try {
      if (!Object.hasOwn(protocol.notifications, method)) throw new ChannelProtocolError(`unknown notification ${method}`);
      const params = protocol.notifications[method]!.safeParse(rawParams);
      if (!params.success) throw new ChannelProtocolError(`${method} with ${describeIssues(params.error)}`);
      (notifications[method] as (params: unknown) => void)(params.data);
    } catch (error) {
      this.#log.error({ err: error }, `${method} failed`);
    }
  }
}
