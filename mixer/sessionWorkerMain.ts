import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from './logger.ts';
import { setBackgroundNiceness } from './priority.ts';
import { Session } from './Session.ts';
import type { HostToWorker, SessionWorkerData, WorkerToHost } from './sessionWorkerProtocol.ts';

/** The worker thread's side: runs one Session and relays its events to the main thread. */

const log = createLogger('sessionWorker');
const STATS_INTERVAL_MS = 500;

const port = parentPort;
if (!port) throw new Error('sessionWorkerMain runs only in a worker thread');
const post = (message: WorkerToHost): void => port.postMessage(message);

const { settings, backgroundNiceness } = workerData as SessionWorkerData;
setBackgroundNiceness(backgroundNiceness);
const session = await Session.create(settings);
session.on('keyframeneeded', (...args) => post({ op: 'event', event: 'keyframeneeded', args }));
session.on('compositestart', (...args) => post({ op: 'event', event: 'compositestart', args }));
session.on('speaker', (...args) => post({ op: 'event', event: 'speaker', args }));
session.observer.on('layoutchange', (...args) => post({ op: 'observer', event: 'layoutchange', args }));
session.observer.on('firstframe', (...args) => post({ op: 'observer', event: 'firstframe', args }));
const statsTimer = setInterval(() => post({ op: 'stats', stats: session.stats() }), STATS_INTERVAL_MS);

async function handle(message: HostToWorker): Promise<unknown> {
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
    case 'close':
      clearInterval(statsTimer);
      await session.close();
      post({ op: 'stats', stats: session.stats() });
      return undefined;
  }
}

port.on('message', (message: HostToWorker) => {
  handle(message).then(
    (result) => {
      if ('requestId' in message) post({ op: 'reply', requestId: message.requestId, result });
      if (message.op === 'close') port.close();
    },
    (error: unknown) => {
      log.error({ err: error }, `session ${message.op} failed`);
      if ('requestId' in message) post({ op: 'reply', requestId: message.requestId, error: String((error as Error).message) });
    },
  );
});
post({ op: 'stats', stats: session.stats() });
post({ op: 'ready' });
