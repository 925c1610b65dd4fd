/** What the bench commands share: where their JSON goes, and how their options are parsed. */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';

export const BENCH_OUT = join(fileURLToPath(new URL('../../', import.meta.url)), 'artifacts', 'bench');

/**
 * Adds `--out` and parses `argv`. Returns the options, or the exit code when commander printed
 * the help (0) or an error instead.
 */
export function parseBenchCommand<T extends object>(command: Command, argv: string[]): T | number {
  command
    .option('--out <dir>', 'where the JSON goes', BENCH_OUT)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    command.parse(argv, { from: 'user' });
  } catch (error) {
    return (error as { exitCode?: number }).exitCode ?? 1;
  }
  return command.opts<T>();
}
