/** Wraparound arithmetic for RTP sequence numbers (16 bit) and timestamps (32 bit), RFC 3550. */

export const seqAdd = (seq: number, delta: number): number => (((seq + delta) % 0x10000) + 0x10000) % 0x10000;

/** True when `a` is newer than `b`, allowing for wraparound (RFC 3550 A.1: within half the space). */
export const seqNewer = (a: number, b: number): boolean => a !== b && ((a - b) & 0xffff) < 0x8000;

/** `a - b` in sequence numbers, signed, allowing for wraparound (-32768..32767). */
export const seqDiff = (a: number, b: number): number => {
  const d = (a - b) & 0xffff;
  return d >= 0x8000 ? d - 0x10000 : d;
};

export const tsAdd = (ts: number, delta: number): number =>
  (((ts + Math.round(delta)) % 0x100000000) + 0x100000000) % 0x100000000;

/** `a - b` in timestamp units, signed, allowing for wraparound. */
export const tsDiff = (a: number, b: number): number => {
  const d = (a - b) >>> 0;
  return d >= 0x80000000 ? d - 0x100000000 : d;
};
