import { createLogger } from '../../base/log/logger.ts';
import { boostMediaPriority } from '../../base/process/priority.ts';

const log = createLogger('LoadTest');

/**
 * Raises the calling thread, which reads every client's sockets, `levels` nice levels, as the
 * server raises its media path; FFmpeg started afterwards as background work (the latency
 * readers) stays at the old level. Measured on two busy cores: below the server's media path the
 * load generator waited for a CPU 0.7 s of every second, its sockets filled with composite
 * (1.5 Mbit/s each), every ICE consent response was read after werift's 0.5-1 s wait and peers
 * failed after its 30 s. Says so through `onProgress` when it may not.
 */
export function raiseClientPriority(levels: number, onProgress: (message: string) => void): void {
  const priority = boostMediaPriority(levels);
  if (priority.error) onProgress(`the clients run at the latency readers' priority (${priority.error}): on a busy machine peers may fail`);
  else if (priority.boost > 0) log.info({ levels: priority.boost }, 'clients run above the latency readers');
}
