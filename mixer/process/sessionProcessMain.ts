import { createLogger } from '../../base/log/logger.ts';
import { setBackgroundNiceness } from '../../base/process/priority.ts';
import { FfmpegProcess } from '../../base/process/FfmpegProcess.ts';
import { Session } from '../Session.ts';
import { Spawner } from '../../base/process/Spawner.ts';
import { ParentChannel } from '../../base/process/ParentChannel.ts';
import type { SessionSettings } from '../SessionTypes.ts';
import { sessionProtocol, type SessionProtocol } from './sessionProcessProtocol.ts';

/** The session process's side: runs one Session and relays its events to the server. */

const log = createLogger('sessionProcess');
const STATS_INTERVAL_MS = 500;
/** A session that cannot close in this long (an FFmpeg that never answers) must not outlive its server. */
const SHUTDOWN_DEADLINE_MS = 10_000;

// A spare until the server starts its session (SpareSessions.ts): not counted as a room's session.
process.title = 'mcu-spare';
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
    if (session) channel.emit('stats', session.stats());
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

async function start(settings: SessionSettings, backgroundNiceness: number): Promise<void> {
  process.title = 'mcu-session';
  setBackgroundNiceness(backgroundNiceness);
  FfmpegProcess.useLauncher((await spawner).launch);
  const started = await Session.create(settings);
  session = started;
  started.on('keyframeneeded', (id, need) => channel.emit('keyframeneeded', { id, need }));
  started.on('compositestart', (sources) => channel.emit('compositestart', sources));
  started.on('speaker', (id) => channel.emit('speaker', id));
  started.on('decoded', (frames) => channel.emit('decoded', frames));
  started.observer.on('layoutchange', (tiles) => channel.emit('layoutchange', tiles));
  started.observer.on('firstframe', (id) => channel.emit('firstframe', id));
  statsTimer = setInterval(() => channel.emit('stats', started.stats()), STATS_INTERVAL_MS);
  channel.emit('stats', started.stats());
}

function running(method: string): Session {
  if (!session) throw new Error(`session ${method} before init`);
  return session;
}

const channel: ParentChannel<SessionProtocol> = new ParentChannel({
  name: 'sessionProcess',
  protocol: sessionProtocol,
  requests: {
    init: ({ settings, backgroundNiceness }) => start(settings, backgroundNiceness),
    add: (participant) => running('add').addParticipant(participant),
    remove: ({ id }) => running('remove').removeParticipant(id),
    // A spare that was never started closes too (its spawner).
    close: () => closeSession(),
  },
  notifications: {
    switched: ({ ssrc }) => running('switched').compositeSwitched(ssrc),
    keyframe: () => running('keyframe').requestCompositeKeyframe(),
    layout: (layout) => running('layout').setLayout(layout),
    h264: ({ wanted }) => running('h264').setH264Wanted(wanted),
    rungs: ({ wanted }) => running('rungs').setRungsWanted(wanted),
  },
  onAnswered: (method, error) => {
    if (error !== undefined) log.error({ err: error }, `session ${method} failed`);
    if (method === 'close' && error === undefined) exit();
    if (method === 'init' && error !== undefined) shutDown('its session did not start');
  },
});

// Ctrl-C reaches the whole process group: the server decides when its sessions end.
process.on('SIGINT', () => {});
// The server died (parent-death signal) or closed the channel.
process.on('SIGTERM', () => shutDown('SIGTERM'));
process.on('disconnect', () => {
  if (!closing) shutDown('the server disconnected');
});
channel.ready();
