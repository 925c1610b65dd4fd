import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Media files that assert no time budget and no frame rate: they run first, while the quick
 * project's files still share the two cores with them (vitest.config.ts). Not the spare session's
 * file: a cold session start beside the quick lane took over 15 s. Everything else follows in
 * vitest's own order.
 */
const FIRST = ['integration/rest', 'integration/limits', 'e2e/fuzz', 'integration/shapedLink'];

const rank = (spec: TestSpecification): number => {
  const i = FIRST.findIndex((name) => spec.moduleId.endsWith(`/test/${name}.test.ts`));
  return i < 0 ? FIRST.length : i;
};

export class LoadTolerantFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
