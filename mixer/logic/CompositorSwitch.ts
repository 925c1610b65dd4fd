import type { LayoutKind, Size } from './layout.ts';

/** The compositor a roster needs: its tiles, layout and outputs, and a key to compare plans by. */
export interface CompositorPlan {
  ids: string[];
  kind: LayoutKind;
  h264: boolean;
  source: Size;
  /** The lower rungs it encodes (indices into the session's `rungs`), ascending. */
  rungs: number[];
  key: string;
}

export function compositorPlan(ids: string[], kind: LayoutKind, h264: boolean, source: Size, rungs: readonly number[] = []): CompositorPlan {
  const sorted = [...new Set(rungs)].sort((a, b) => a - b);
  return { ids, kind, h264, source, rungs: sorted, key: JSON.stringify([ids, kind, h264, source, sorted]) };
}

/** What the session is to do with its compositors (each known by the id the switch gave it). */
export type SwitchAction =
  /** Start FFmpeg for `plan`; `background`: below the media path's priority until raised. */
  | { do: 'start'; id: number; plan: CompositorPlan; background: boolean }
  /** Raise it to the media path's priority now, or once FFmpeg reads its next frame. */
  | { do: 'raise'; id: number; when: 'now' | 'reading' }
  /** It starts sending to the viewers (`warm`: a standby taken): the server switches to it at its first keyframe. */
  | { do: 'announce'; id: number; warm: boolean }
  /** It is the one the viewers see now, showing `ids`. */
  | { do: 'live'; id: number; ids: string[] }
  | { do: 'close'; id: number }
  /** Start a standby for `plan` at the next spawn slot (then call `standby`). */
  | { do: 'standby'; plan: CompositorPlan; ifLive?: number }
  /** A running compositor died: compose again, forced. */
  | { do: 'restart' };

/** A compositor and the plan it composes. */
export interface CompositorRole {
  readonly id: number;
  readonly plan: CompositorPlan;
  /** When it was started or, for a standby, taken into use (ms). */
  readonly since: number;
}

export interface CompositorSwitchOptions {
  /** A new compositor that has not been switched to by then becomes live anyway. */
  switchFallbackMs: number;
  /** After a switch, the standby for the new roster waits this long. */
  standbyAfterSwitchMs: number;
  /** Compositors started ahead of need: one for the roster, one for a newcomer. */
  maxStandbys: number;
  restartDelayMs: number;
}

export const COMPOSITOR_SWITCH_DEFAULTS: CompositorSwitchOptions = {
  switchFallbackMs: 3000,
  standbyAfterSwitchMs: 1000,
  maxStandbys: 2,
  restartDelayMs: 300,
};

/**
 * Which compositor is live, which one is being switched to (pending), and which wait as
 * standbys. FFmpeg cannot add an input while it runs, so a new roster, layout or keyframe
 * starts a new compositor beside the live one (make before break); the server switches its
 * outgoing stream at the new one's first keyframe and says so (`switched`), and the old one
 * stops. Starting FFmpeg, its graph and its encoder is the slow part of a switch, so a standby
 * is started ahead for a roster that is likely next (the same one, for keyframe requests; one
 * with a newcomer, before its first frame), and taken when that roster comes.
 *
 * Pure: events and the time in, actions out; the session owns the processes and the timers
 * (it calls `due` at `nextDeadline`).
 */
export class CompositorSwitch {
  readonly #o: CompositorSwitchOptions;
  #live: CompositorRole | undefined;
  #pending: CompositorRole | undefined;
  /** By plan key, oldest first. */
  readonly #standbys = new Map<string, CompositorRole>();
  #nextId = 1;
  #fallbackAt: number | undefined;
  #standbyDue: { at: number; plan: CompositorPlan; ifLive: number } | undefined;
  #restartAt: number | undefined;
  #closed = false;
  /** Live or pending compositors that died. */
  restarts = 0;

  constructor(options: Partial<CompositorSwitchOptions> = {}) {
    this.#o = { ...COMPOSITOR_SWITCH_DEFAULTS, ...options };
  }

  get live(): CompositorRole | undefined {
    return this.#live;
  }

  get pending(): CompositorRole | undefined {
    return this.#pending;
  }

  /** The compositor the viewers will see: the pending one, or the live one. */
  get target(): CompositorRole | undefined {
    return this.#pending ?? this.#live;
  }

  /** The compositors fed on every video tick. */
  get feeding(): CompositorRole[] {
    return [this.#live, this.#pending].filter((role) => role !== undefined);
  }

  get standbys(): CompositorRole[] {
    return [...this.#standbys.values()];
  }

  /** Compose `plan` (unless the target composes it already, or `force`: a keyframe). */
  compose(plan: CompositorPlan, now: number, force = false): SwitchAction[] {
    if (this.#closed) return [];
    if (!force && this.target?.plan.key === plan.key) return [];
    const actions: SwitchAction[] = [];
    if (this.#pending) actions.push({ do: 'close', id: this.#pending.id });
    this.#pending = undefined;
    // A standby has started FFmpeg and loaded its libraries already: it answers in half the time,
    // and at the media path's priority from now on. A cold start beside a live compositor
    // starts below it and is raised once FFmpeg reads its first frame: FFmpeg's start-up is a
    // burst of CPU that took frames from the live one (gaps of 60-95 ms at the receivers on
    // two busy cores), and kept below until switched to it showed a new layout 0.8-1.5 s late
    // on a loaded machine (0.3-0.9 s raised).
    const standby = this.#standbys.get(plan.key);
    this.#standbys.delete(plan.key);
    const id = standby?.id ?? this.#nextId++;
    if (standby) actions.push({ do: 'raise', id, when: 'now' });
    else actions.push({ do: 'start', id, plan, background: this.#live !== undefined }, { do: 'raise', id, when: 'reading' });
    actions.push({ do: 'announce', id, warm: standby !== undefined });
    const role = { id, plan, since: now };
    if (!this.#live) {
      this.#live = role;
      actions.push({ do: 'live', id, ids: [...plan.ids] }, { do: 'standby', plan });
    } else {
      this.#pending = role;
      this.#fallbackAt = now + this.#o.switchFallbackMs;
    }
    return actions;
  }

  /** The server switched its outgoing stream to compositor `id`. */
  switched(id: number, now: number): SwitchAction[] {
    return this.#pending?.id === id ? this.#promote(now) : [];
  }

  /**
   * A spawn slot came for a standby of `plan` (`ifLive`: only while that compositor is live). It
   * starts below the media path's priority: it must not take frames from the live compositor.
   */
  standby(plan: CompositorPlan, now: number, ifLive?: number): SwitchAction[] {
    if (this.#closed || this.#standbys.has(plan.key)) return [];
    if (ifLive !== undefined && this.#live?.id !== ifLive) return [];
    const id = this.#nextId++;
    this.#standbys.set(plan.key, { id, plan, since: now });
    const actions: SwitchAction[] = [{ do: 'start', id, plan, background: true }];
    for (const [key, role] of this.#standbys) {
      if (this.#standbys.size <= this.#o.maxStandbys) break;
      this.#standbys.delete(key);
      actions.push({ do: 'close', id: role.id });
    }
    return actions;
  }

  /** Compositor `id` exited unexpectedly: what it was. A live or pending one is replaced after a delay. */
  died(id: number, now: number): 'live' | 'pending' | 'standby' | 'gone' {
    for (const [key, role] of this.#standbys) {
      if (role.id !== id) continue;
      this.#standbys.delete(key);
      return 'standby';
    }
    const was = this.#live?.id === id ? 'live' : this.#pending?.id === id ? 'pending' : 'gone';
    if (was === 'gone') return was;
    this.restarts++;
    if (was === 'live') this.#live = undefined;
    else {
      this.#pending = undefined;
      this.#fallbackAt = undefined;
    }
    this.#restartAt ??= now + this.#o.restartDelayMs;
    return was;
  }

  /** When `due` has something to do next (ms), if ever. */
  nextDeadline(): number | undefined {
    const times = [this.#fallbackAt, this.#standbyDue?.at, this.#restartAt].filter((t) => t !== undefined);
    return this.#closed || times.length === 0 ? undefined : Math.min(...times);
  }

  /** What is due at `now`: a switch the server never made, a standby after a switch, a restart. */
  due(now: number): SwitchAction[] {
    if (this.#closed) return [];
    const actions: SwitchAction[] = [];
    if (this.#fallbackAt !== undefined && this.#fallbackAt <= now) actions.push(...this.#promote(now));
    const standby = this.#standbyDue;
    if (standby && standby.at <= now) {
      this.#standbyDue = undefined;
      actions.push({ do: 'standby', plan: standby.plan, ifLive: standby.ifLive });
    }
    if (this.#restartAt !== undefined && this.#restartAt <= now) {
      this.#restartAt = undefined;
      actions.push({ do: 'restart' });
    }
    return actions;
  }

  /** The session closes: every compositor there is, to close. */
  close(): number[] {
    if (this.#closed) return [];
    this.#closed = true;
    const ids = [this.#live, this.#pending, ...this.#standbys.values()].filter((r) => r !== undefined).map((r) => r.id);
    this.#live = this.#pending = undefined;
    this.#standbys.clear();
    return ids;
  }

  #promote(now: number): SwitchAction[] {
    const next = this.#pending;
    this.#fallbackAt = undefined;
    if (!next) return [];
    const old = this.#live;
    this.#live = next;
    this.#pending = undefined;
    const actions: SwitchAction[] = [{ do: 'raise', id: next.id, when: 'now' }];
    if (old) actions.push({ do: 'close', id: old.id });
    actions.push({ do: 'live', id: next.id, ids: [...next.plan.ids] });
    // The next keyframe request will find one ready for this very roster. Started a while after
    // the switch: an FFmpeg starting beside the new compositor's first frames slows them down.
    this.#standbyDue = { at: now + this.#o.standbyAfterSwitchMs, plan: next.plan, ifLive: next.id };
    return actions;
  }
}
