import type { LimitCode } from '../errors.ts';

/** Every refusal the server makes to protect itself, by code and by where it was made. */
export type RefusalCode = 'unauthorized' | 'forbidden' | LimitCode;
export type RefusalSurface = 'socket' | 'api';

export const REFUSAL_CODES: readonly RefusalCode[] = [
  'unauthorized',
  'forbidden',
  'origin_not_allowed',
  'rate_limited',
  'join_rate_limited',
  'room_limit',
  'participant_limit',
  'session_limit',
];

export function isRefusalCode(code: string): code is RefusalCode {
  return (REFUSAL_CODES as readonly string[]).includes(code);
}

/** Counts for `mcu_refusals_total`; every code starts at 0 so that it is in /metrics before the first refusal. */
export class Refusals {
  readonly #counts = new Map<string, number>();

  count(code: RefusalCode, via: RefusalSurface): void {
    const key = `${code} ${via}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  get(code: RefusalCode, via: RefusalSurface): number {
    return this.#counts.get(`${code} ${via}`) ?? 0;
  }

  entries(): { code: RefusalCode; via: RefusalSurface; count: number }[] {
    return REFUSAL_CODES.flatMap((code) => (['socket', 'api'] as const).map((via) => ({ code, via, count: this.get(code, via) })));
  }
}
