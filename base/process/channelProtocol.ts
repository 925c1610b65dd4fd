import { z } from 'zod';

/**
 * What a parent and its child process say over their IPC channel: requests the parent makes and
 * the child answers, notifications the parent sends without an answer, and events the child
 * sends on its own. Each is named by a schema; both ends validate what they receive with it.
 */
export interface ChannelProtocol {
  requests: Record<string, { params: z.ZodType; result: z.ZodType }>;
  notifications: Record<string, z.ZodType>;
  events: Record<string, z.ZodType>;
}

/** Checks a protocol's shape and keeps its literal type (the method and event names). */
export const defineProtocol = <P extends ChannelProtocol>(protocol: P): P => protocol;

export type RequestName<P extends ChannelProtocol> = keyof P['requests'] & string;
export type NotificationName<P extends ChannelProtocol> = keyof P['notifications'] & string;
export type EventName<P extends ChannelProtocol> = keyof P['events'] & string;
export type Params<P extends ChannelProtocol, M extends RequestName<P>> = z.input<P['requests'][M]['params']>;
export type Result<P extends ChannelProtocol, M extends RequestName<P>> = z.output<P['requests'][M]['result']>;
export type NotificationData<P extends ChannelProtocol, N extends NotificationName<P>> = z.output<P['notifications'][N]>;
export type EventData<P extends ChannelProtocol, E extends EventName<P>> = z.output<P['events'][E]>;

/** An error as it crosses the channel: a handler's throw becomes the request's rejection. */
export const wireErrorSchema = z.object({ name: z.string(), message: z.string(), code: z.string().optional() });
export type WireError = z.infer<typeof wireErrorSchema>;

/** Parent to child. */
export const toChildSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('request'), id: z.number().int().positive(), method: z.string(), params: z.unknown().optional() }),
  z.object({ kind: z.literal('notification'), method: z.string(), params: z.unknown().optional() }),
]);
export type ToChild = z.infer<typeof toChildSchema>;

/** Child to parent. */
export const toParentSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('ready') }),
  /** `error` set: the handler threw; else `result` is its answer. */
  z.object({ kind: z.literal('response'), id: z.number().int().positive(), result: z.unknown().optional(), error: wireErrorSchema.optional() }),
  z.object({ kind: z.literal('event'), event: z.string(), data: z.unknown().optional() }),
]);
export type ToParent = z.infer<typeof toParentSchema>;

/** A schema's complaint in one line, for logs and errors. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(message)'}: ${issue.message}`).join('; ');
}
