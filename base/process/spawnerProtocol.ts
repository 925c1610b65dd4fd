/** Messages between a Spawner (in a session process) and its spawner process (spawnerMain.ts). */

export type HostToSpawner = { op: 'spawn'; id: number; file: string; args: string[]; pipes: number };

export type SpawnerToHost =
  | { op: 'booted' }
  | { op: 'spawned'; id: number; pid: number }
  /** Sent with the pipe's handle; after the last one the process is ready to use. */
  | { op: 'pipe'; id: number; fd: number }
  | { op: 'error'; id: number; message: string; code?: string }
  | { op: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null };
