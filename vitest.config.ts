import { defineConfig } from 'vitest/config';
import { LoadTolerantFirst } from './test/sequencer.ts';

// Files that wait on no live media and no rate: the unit tests, and integration tests of the CLI,
// the security of the API and the processes' plumbing. They run two at a time (in worker threads),
// beside the first of the others, which assert no time budget (test/sequencer.ts): the quick ones
// take about 90 s, which the whole run no longer waits for.
const QUICK = [
  'test/unit/**/*.test.ts',
  'test/integration/{cli,security,recordingApi,rtpFileWriter,outgoingNack,loadtestMedia,encoders}.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    sequence: { sequencer: LoadTolerantFirst },
    // The pool sets how many files run at once (a project cannot): threads two, forks one.
    poolOptions: {
      threads: { maxThreads: 2, minThreads: 1 },
      forks: { maxForks: 1, minForks: 1 },
    },
    projects: [
      { extends: true, test: { name: 'quick', include: QUICK, pool: 'threads', sequence: { groupOrder: 0 } } },
      {
        extends: true,
        // Real FFmpeg processes, werift peers and Chromium pages, with figures measured in time:
        // one file at a time, so that their CPU does not starve each other on a 2-core machine.
        test: { name: 'media', include: ['test/**/*.test.ts'], exclude: QUICK, pool: 'forks', sequence: { groupOrder: 0 } },
      },
    ],
  },
});
