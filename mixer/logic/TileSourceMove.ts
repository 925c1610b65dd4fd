import type { LayoutKind, Size } from './layout.ts';
import { sameSize, tileSourceFor } from './sourceSize.ts';

/**
 * The tile-source size in use (sourceSize.ts) and a move of every video decoder to another one.
 * Decoders move one by one (each stops, one at the new size starts on its port and takes over at
 * its first frame); compositors of the old size go on meanwhile, and a roster with a newcomer
 * waits for the move to end: every decoder at the new size, or `timeoutMs` over.
 *
 * Pure: the session passes the time and calls `due` at `nextDeadline`.
 */
export class TileSourceMove {
  readonly #canvas: Size;
  readonly #configured: Size;
  readonly #timeoutMs: number;
  #size: Size;
  #moving: { size: Size; until: number } | undefined;

  constructor(o: { canvas: Size; configured: Size; timeoutMs: number }) {
    this.#canvas = o.canvas;
    this.#configured = o.configured;
    this.#timeoutMs = o.timeoutMs;
    this.#size = o.configured;
  }

  /** The size compositors take now. */
  get size(): Size {
    return this.#size;
  }

  /** The size being moved to, during a move. */
  get target(): Size | undefined {
    return this.#moving?.size;
  }

  /** The size a decoder starting now decodes to. */
  get decodeSize(): Size {
    return this.#moving?.size ?? this.#size;
  }

  /**
   * A roster of `count` tiles in layout `kind` is to be composed: 'steady' (compose it), 'start'
   * (a move begins: move every decoder), or 'moving' (a move to the size it needs is under way).
   */
  want(count: number, kind: LayoutKind, now: number): 'steady' | 'start' | 'moving' {
    const wanted = tileSourceFor({ count, kind, canvas: this.#canvas, configured: this.#configured, current: this.#size });
    if (this.#moving && sameSize(this.#moving.size, wanted)) return 'moving';
    this.#moving = undefined;
    if (sameSize(wanted, this.#size)) return 'steady';
    this.#moving = { size: wanted, until: now + this.#timeoutMs };
    return 'start';
  }

  /** Whether a decoder delivering `size` has moved (true for any when no move is under way). */
  moved(size: Size): boolean {
    return !this.#moving || sameSize(size, this.#moving.size);
  }

  /** Ends the move (every decoder moved, or the wait is over): the new size, or undefined if none was under way. */
  finish(): Size | undefined {
    const moving = this.#moving;
    if (!moving) return undefined;
    this.#moving = undefined;
    this.#size = moving.size;
    return moving.size;
  }

  /** A live compositor of `source` was switched to: true if no compositor of an old size is left (frames held for one can go). */
  oldSizeGone(source: Size): boolean {
    return !this.#moving && sameSize(source, this.#size);
  }

  nextDeadline(): number | undefined {
    return this.#moving?.until;
  }

  /** True if the move is to end now for want of the last decoders. */
  due(now: number): boolean {
    return this.#moving !== undefined && this.#moving.until <= now;
  }
}
