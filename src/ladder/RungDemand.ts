/**
 * Which rungs of a room's ladder some viewer receives, and so which are encoded. A rung whose
 * last viewer left stays encoded for `lingerMs`: a viewer on a flapping link comes back to it
 * without a new compositor each time (each one costs every viewer a keyframe). The top rung is
 * the composite itself and is always encoded. Pure: the caller passes the time.
 */
export class RungDemand {
  readonly #lingerMs: number;
  readonly #viewers = new Map<string, number>();
  /** When each rung lost its last viewer. */
  readonly #left = new Map<number, number>();

  constructor(lingerMs = 20_000) {
    this.#lingerMs = lingerMs;
  }

  /** `viewer` receives `rung` now (undefined: no video, or it left). */
  set(viewer: string, rung: number | undefined, now: number): void {
    const before = this.#viewers.get(viewer);
    if (rung === undefined) this.#viewers.delete(viewer);
    else this.#viewers.set(viewer, rung);
    if (before !== undefined && before !== rung && !this.#received(before)) this.#left.set(before, now);
    if (rung !== undefined) this.#left.delete(rung);
  }

  /** The rungs to encode below the top, as indices into the session's lower rungs (rung - 1), ascending. */
  wanted(now: number): number[] {
    const rungs = new Set(this.#viewers.values());
    for (const [rung, at] of this.#left) {
      if (now - at < this.#lingerMs) rungs.add(rung);
      else this.#left.delete(rung);
    }
    return [...rungs].filter((rung) => rung > 0).map((rung) => rung - 1).sort((a, b) => a - b);
  }

  /** When a lingering rung stops being wanted, if one does. */
  nextExpiry(): number | undefined {
    const times = [...this.#left.values()];
    return times.length ? Math.min(...times) + this.#lingerMs : undefined;
  }

  #received(rung: number): boolean {
    for (const r of this.#viewers.values()) if (r === rung) return true;
    return false;
  }
}
