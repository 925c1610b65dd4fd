/** FFmpeg could not be started or stopped before producing what it was started for. */
export class FfmpegError extends Error {
  override readonly name = 'FfmpegError';
  constructor(
    message: string,
    readonly stderrTail: string,
  ) {
    super(stderrTail ? `${message}: ${stderrTail}` : message);
  }
}

/** A child process that was never usable: it exited, or never said it was ready, during its start. */
export class ChildStartError extends Error {
  override readonly name = 'ChildStartError';
}

/** The channel to a child process closed (the parent closed it) with this request unanswered. */
export class ChannelClosedError extends Error {
  override readonly name: string = 'ChannelClosedError';
}

/** The child process died with this request unanswered. */
export class ChildExitedError extends ChannelClosedError {
  override readonly name = 'ChildExitedError';
  constructor(
    message: string,
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
  ) {
    super(message);
  }
}

/** A child process did not answer a request in the time the request allowed. */
export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
}

/** The child process's handler of a request threw this (its name, message and code cross over). */
export class RemoteError extends Error {
  constructor(
    override readonly name: string,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** A message across the channel that its protocol's schema refused. */
export class ChannelProtocolError extends Error {
  override readonly name = 'ChannelProtocolError';
}
