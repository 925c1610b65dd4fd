import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where an end-to-end test leaves the figures it measured, for `npm run bench:timing`
 * (scripts/bench-timing.ts), which runs the test and holds the figures against their budgets.
 * The test itself asserts behaviour and wide regression bounds only: a busy 2-core machine must
 * not fail it.
 */
export const FIGURES_DIR_ENV = 'MCU_FIGURES_DIR';

/** Writes `<name>-<time>.json` into $MCU_FIGURES_DIR when it is set; does nothing otherwise. */
export function saveFigures(name: string, figures: Record<string, unknown>): void {
  const dir = process.env[FIGURES_DIR_ENV];
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}-${Date.now()}.json`), `${JSON.stringify({ name, at: new Date().toISOString(), ...figures }, null, 2)}\n`);
}
