import { expect, test } from 'vitest';

/**
 * One test a row of a pure function's table: `fn(input)` is `expected` (by `toBe`).
 * The title formats the row as vitest does (`%j`, `%s`: the input, then the expected value).
 */
export function eachReturns<I, O>(title: string, fn: (input: I) => O, rows: ReadonlyArray<[I, O]>): void {
  test.each<[I, O]>(rows)(title, (input, expected) => {
    expect(fn(input)).toBe(expected);
  });
}
