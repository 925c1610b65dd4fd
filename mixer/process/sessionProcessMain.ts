import { createLogger } from '../../base/log/logger.ts';
import { setBackgroundNiceness } from '../../base/process/priority.ts';
import { FfmpegProcess } from '../../base/process/FfmpegProcess.ts';
import { Session } from '../Session.ts';
import { Spawner } from '../../base/process/Spawner.ts';
import type { HostToSession, SessionToHost } from './sessionProcessProtocol.ts';

/** The session process's side: runs one Session and relays its events to the server. */

const log = createLogger('sessionProcess');
const STATS_INTERVAL_MS = 500;
/** A session that cannot close in this long (an FFmpeg that never answers) must not outlive its server. */
const SHUTDOWN_DEADLINE_MS = 10_000;

// A spare until the server starts its session (SpareSessions.ts): not counted as a room's session.
process.title = 'mcu-spare';
const send = process.send?.bind(process);
if (!send) throw new Error('sessionProcessMain runs only as a child process with an IPC channel');
const post = (message: SessionToHost): void => {
  if (process.connected) send(message);
};

// Started at once, while the server sends the settings: the session's first FFmpeg needs it.
const spawner = Spawner.start();
spawner.catch((error: unknown) => log.error({ err: error }, 'the spawner process did not start'));
let session: Session | undefined;
let statsTimer: NodeJS.Timeout | undefined;
let closing: Promise<void> | undefined;

function closeSession(): Promise<void> {
  closing ??= (async () => {
    clearInterval(statsTimer);
    await session?.close();
    if (session) post({ op: 'stats', stats: session.stats() });
    await spawner.then(
      (started) => started.close(),
      () => undefined,
    );
  })();
  return closing;
}

function exit(): void {
  if (process.connected) process.disconnect();
  process.exit(0);
}

/** The server is gone or went away without closing: stop FFmpeg gracefully, then leave. */
function shutDown(why: string): void {
  log.warn({ why }, 'session process ending on its own');
  setTimeout(() => process.exit(1), SHUTDOWN_DEADLINE_MS).unref();
  void closeSession().finally(exit);
}

async function start(message: Extract<HostToSession, { op: 'init' }>): Promise<void> {
  process.title = 'mcu-session';
  setBackgroundNiceness(message.backgroundNiceness);
  FfmpegProcess.useLauncher((await spawner).launch);
  const started = await Session.create(message.settings);
  session = started;
  started.on('keyframeneeded', (...args) => post({ op: 'event', event: 'keyframeneeded', args }));
  started.on('compositestart', (...args) => post({ op: 'event', event: 'compositestart', args }));
  started.on('speaker', (...args) => post({ op: 'event', event: 'speaker', args }));
  started.on('decoded', (...args) => post({ op: 'event', event: 'decoded', args }));
  started.observer.on('layoutchange', (...args) => post({ op: 'observer', event: 'layoutchange', args }));
  started.observer.on('firstframe', (...args) => post({ op: 'observer', event: 'firstframe', args }));
  statsTimer = setInterval(() => post({ op: 'stats', stats: started.stats() }), STATS_INTERVAL_MS);
  post({ op: 'stats', stats: started.stats() });
}

async function handle(message: HostToSession): Promise<unknown> {
  if (message.op === 'init') return start(message);
  // A spare that was never started closes too (its spawner).
  if (message.op === 'close') return closeSession();
  if (!session) throw new Error(`session ${message.op} before init`);
  switch (message.op) {
    case 'add':
      return session.addParticipant(message.participant);
    case 'remove':
      return session.removeParticipant(message.id);
    case 'switched':
      session.compositeSwitched(message.ssrc);
      return undefined;
    case 'keyframe':
      session.requestCompositeKeyframe();
      return undefined;
    case 'layout':
      session.setLayout(message.layout);
      return undefined;
    case 'h264':
      session.setH264Wanted(message.wanted);
      return undefined;
  }
}

process.on('message', (message: HostToSession) => {
  handle(message).then(
    (result) => {
      if ('requestId' in message) post({ op: 'reply', requestId: message.requestId, result });
      if (message.op === 'close') exit();
    },
    (error: unknown) => {
      log.error({ err: error }, `session ${message.op} failed`);
      if ('requestId' in message) post({ op: 'reply', requestId: message.requestId, error: String((error as Error).message) });
      if (message.op === 'init') shutDown('its session did not start');
    },
  );
});
// Ctrl-C reaches the whole process group: the server decides when its sessions end.
process.on('SIGINT', () => {});
// The server died (parent-death signal) or closed the channel.
process.on('SIGTERM', () => shutDown('SIGTERM'));
process.on('disconnect', () => {
  if (!closing) shutDown('the server disconnected');
});
post({ op: 'booted' });
