import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Media files that assert no time budget and no frame rate: they run first, while the quick
 * project's files still share the two cores with them (vitest.config.ts). Not the spare session's
 * file: a cold session start beside the quick lane took over 15 s. Everything else follows in
 * vitest's own order.
 */
const FIRST = ['integration/rest', 'integration/limits', 'e2e/fuzz', 'integration/shapedLink'];

/**
 * The quick project's files that start servers, FFmpeg or child processes: they go first in
 * their lane, so that they are done while the media lane runs FIRST. Left in vitest's order the
 * CLI test (a minute of servers) ran beside the browser test, whose bot, starved, sent nothing
 * for 10 s (fresh-clone runs on 2026-12-07, three times).
 */
const QUICK_FIRST = [
  'integration/cli',
  'integration/security',
  'unit/FfmpegProcess',
  'unit/ChildChannel',
  'integration/loadtestMedia',
  'integration/encoders',
  'integration/recordingApi',
  'unit/Spawner',
  'unit/logDestination',
];

const ORDER = [...FIRST, ...QUICK_FIRST];

const rank = (spec: TestSpecification): number => {
  const i = ORDER.findIndex((name) => spec.moduleId.endsWith(`/test/${name}.test.ts`));
  return i < 0 ? ORDER.length : i;
};

export class LoadTolerantFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
