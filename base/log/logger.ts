import { pino, type Logger } from 'pino';
import { LogDestination } from './logDestination.ts';

// One root logger; each module takes a child named after itself (mediasoup's Logger habit).
// MCU_LOG_LEVEL=debug shows every FFmpeg command line and stderr line.
// Logs go to stderr: stdout belongs to what a command prints (the bot's JSON lines, the URL),
// through a destination that never waits for its reader (logDestination.ts).
const root: Logger = pino(
  {
    level: process.env.MCU_LOG_LEVEL ?? (process.env.VITEST ? 'warn' : 'info'),
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
  },
  new LogDestination(2),
);

export type { Logger };

export function createLogger(module: string): Logger {
  return root.child({ module });
}
