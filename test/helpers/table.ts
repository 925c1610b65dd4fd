import { expect, test } from 'vitest';

/**
 * One test a row of a pure function's table: a row is the arguments then the expected result,
 * and `fn(...arguments)` is that result (by `toBe`). The title formats the row as vitest does.
 */
export function eachReturns<A extends unknown[], O>(title: string, fn: (...args: A) => O, rows: ReadonlyArray<[...A, O]>): void {
  test.each(rows.map((row): unknown[] => [...row]))(title, (...row) => {
    expect(fn(...(row.slice(0, -1) as A))).toBe(row.at(-1));
  });
}
