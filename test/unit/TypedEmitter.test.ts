import { describe, expect, it, vi } from 'vitest';
import { TypedEmitter } from '../../base/TypedEmitter.ts';

type Events = {
  frame: [number, string];
  close: [];
};

describe('TypedEmitter', () => {
  it('safeEmit() passes the arguments to every listener, in the order they subscribed', () => {
    const emitter = new TypedEmitter<Events>();
    const calls: string[] = [];
    emitter.on('frame', (n, s) => calls.push(`a ${n} ${s}`));
    emitter.on('frame', (n, s) => calls.push(`b ${n} ${s}`));
    emitter.safeEmit('frame', 7, 'x');
    expect(calls).toEqual(['a 7 x', 'b 7 x']);
  });

  it('safeEmit() goes on to the other listeners when one throws, and does not throw itself', () => {
    const emitter = new TypedEmitter<Events>();
    const first = vi.fn();
    const last = vi.fn();
    emitter.on('frame', first);
    emitter.on('frame', () => {
      throw new Error('a bad listener');
    });
    emitter.on('frame', last);
    expect(() => emitter.safeEmit('frame', 1, 'one')).not.toThrow();
    expect(first).toHaveBeenCalledExactlyOnceWith(1, 'one');
    expect(last).toHaveBeenCalledExactlyOnceWith(1, 'one');
    // and the emitter keeps working afterwards
    emitter.safeEmit('frame', 2, 'two');
    expect(last).toHaveBeenLastCalledWith(2, 'two');
    expect(last).toHaveBeenCalledTimes(2);
  });

  it('safeEmit() with no listener does nothing', () => {
    const emitter = new TypedEmitter<Events>();
    expect(() => emitter.safeEmit('close')).not.toThrow();
  });

  it('safeEmit() only reaches the listeners of that event', () => {
    const emitter = new TypedEmitter<Events>();
    const onClose = vi.fn();
    emitter.on('close', onClose);
    emitter.safeEmit('frame', 1, 'x');
    expect(onClose).not.toHaveBeenCalled();
  });

  it('subscribe() returns an unsubscribe that removes only that listener', () => {
    const emitter = new TypedEmitter<Events>();
    const kept = vi.fn();
    const removed = vi.fn();
    emitter.subscribe('close', kept);
    const unsubscribe = emitter.subscribe('close', removed);
    emitter.safeEmit('close');
    unsubscribe();
    emitter.safeEmit('close');
    expect(removed).toHaveBeenCalledTimes(1);
    expect(kept).toHaveBeenCalledTimes(2);
    // calling it again is harmless
    expect(() => unsubscribe()).not.toThrow();
    emitter.safeEmit('close');
    expect(kept).toHaveBeenCalledTimes(3);
  });

  it('off() removes a listener added with on()', () => {
    const emitter = new TypedEmitter<Events>();
    const listener = vi.fn();
    emitter.on('close', listener).off('close', listener);
    emitter.safeEmit('close');
    expect(listener).not.toHaveBeenCalled();
  });

  it('removeAllListeners() silences every event', () => {
    const emitter = new TypedEmitter<Events>();
    const a = vi.fn();
    const b = vi.fn();
    emitter.on('close', a).on('frame', b);
    emitter.removeAllListeners();
    emitter.safeEmit('close');
    emitter.safeEmit('frame', 1, 'x');
    expect(a).not.toHaveBeenCalled();
    expect(b).not.toHaveBeenCalled();
  });

  it('off() removes a listener added with once() before it fires', () => {
    const emitter = new TypedEmitter<Events>();
    const listener = vi.fn();
    emitter.once('close', listener);
    emitter.off('close', listener);
    emitter.safeEmit('close');
    expect(listener).not.toHaveBeenCalled();
  });

  // Regression: safeEmit once called `once` listeners without their removing wrapper.
  it('once() listener fires on the first safeEmit only', () => {
    const emitter = new TypedEmitter<Events>();
    const listener = vi.fn();
    emitter.once('frame', listener);
    emitter.safeEmit('frame', 1, 'first');
    emitter.safeEmit('frame', 2, 'second');
    expect(listener).toHaveBeenCalledExactlyOnceWith(1, 'first');
  });

  it('once() listener fires on the first safeEmit', () => {
    const emitter = new TypedEmitter<Events>();
    const listener = vi.fn();
    emitter.once('frame', listener);
    emitter.safeEmit('frame', 1, 'first');
    expect(listener).toHaveBeenCalledWith(1, 'first');
  });

  it('on(), once() and off() return the emitter for chaining', () => {
    const emitter = new TypedEmitter<Events>();
    const listener = (): void => {};
    expect(emitter.on('close', listener)).toBe(emitter);
    expect(emitter.once('close', listener)).toBe(emitter);
    expect(emitter.off('close', listener)).toBe(emitter);
  });
});
