import { z } from 'zod';
import { defineProtocol } from './channelProtocol.ts';

/** The channel between a Spawner (in a session process) and its spawner process (spawnerMain.ts). */
export const spawnerProtocol = defineProtocol({
  requests: {
    /**
     * Starts `file` with `pipes` pipes as its fds 0, 1, 2, ...; answered once every pipe was
     * sent (a `pipe` event each). A program that cannot start is a RemoteError with its `code`.
     */
    spawn: {
      params: z.object({ id: z.number().int().positive(), file: z.string().min(1), args: z.array(z.string()), pipes: z.number().int().min(0).max(16) }),
      result: z.object({ pid: z.number().int().positive() }),
    },
  },
  notifications: {
    /** The host gave up waiting for this program (its request timed out): kill it when it starts. */
    abandon: z.object({ id: z.number().int().positive() }),
  },
  events: {
    /** Sent with the pipe's handle (none if the pipe was gone already). */
    pipe: z.object({ id: z.number().int().positive(), fd: z.number().int().min(0) }),
    exit: z.object({ id: z.number().int().positive(), code: z.number().int().nullable(), signal: z.string().nullable() }),
  },
});

export type SpawnerProtocol = typeof spawnerProtocol;
