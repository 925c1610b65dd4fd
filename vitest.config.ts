import { defineConfig } from 'vitest/config';
import { LoadTolerantFirst } from './test/sequencer.ts';

// Files that wait on no live media and no rate: the unit tests, and integration tests of the CLI,
// the security of the API and the processes' plumbing. They run one at a time (in a worker
// thread) beside the others, which start with those that assert no time budget
// (test/sequencer.ts): the whole run no longer waits for their two minutes. Two at a time beside
// the media files starved a session process's start past its 15 s bound.
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
    // The pool sets how many files run at once (a project cannot): one of each.
    poolOptions: {
      threads: { maxThreads: 1, minThreads: 1 },
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
