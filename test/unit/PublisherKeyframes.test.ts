import { describe, expect, it } from 'vitest';
import { KEYFRAME_REQUEST_GAP_MS, PublisherKeyframes, type KeyframeReason } from '../../src/media/incoming/PublisherKeyframes.ts';

/** The times (ms) at which a PLI went out, for needs at the given times. */
function sentAt(needs: [number, KeyframeReason][]): number[] {
  const keyframes = new PublisherKeyframes();
  return needs.filter(([at, reason]) => keyframes.need(reason, at)).map(([at]) => at);
}

describe('PublisherKeyframes', () => {
  it('asks at once for the first need of any reason', () => {
    for (const reason of Object.keys(KEYFRAME_REQUEST_GAP_MS) as KeyframeReason[]) expect(sentAt([[0, reason]])).toEqual([0]);
  });

  it('paces a gate’s losses at 300 ms, a decoder waiting for its first frame at 500 ms, a stalled one at 1 s', () => {
    const every = (ms: number, reason: KeyframeReason): [number, KeyframeReason][] =>
      Array.from({ length: 13 }, (_, i): [number, KeyframeReason] => [i * ms, reason]);
    expect(sentAt(every(100, 'loss'))).toEqual([0, 300, 600, 900, 1200]);
    expect(sentAt(every(250, 'firstframe'))).toEqual([0, 500, 1000, 1500, 2000, 2500, 3000]);
    expect(sentAt(every(250, 'stalled'))).toEqual([0, 1000, 2000, 3000]);
  });

  it('counts a PLI once, whatever asked for it: one in flight answers the others', () => {
    const keyframes = new PublisherKeyframes();
    expect(keyframes.need('firstframe', 0)).toBe(true);
    // The gate's loss and the decoder's lag 100 ms later: the keyframe asked for is on its way.
    expect(keyframes.need('loss', 100)).toBe(false);
    expect(keyframes.need('lag', 200)).toBe(false);
    expect(keyframes.need('loss', 300)).toBe(true);
    // The session's need waits its own gap from the gate's PLI.
    expect(keyframes.need('firstframe', 600)).toBe(false);
    expect(keyframes.need('firstframe', 800)).toBe(true);
    expect(keyframes.sent).toBe(3);
  });

  it('asks at once for a decoder that has just (re)started, however recent the last PLI', () => {
    const keyframes = new PublisherKeyframes();
    expect(keyframes.need('loss', 0)).toBe(true);
    expect(keyframes.need('restarted', 1)).toBe(true);
    expect(keyframes.need('stalled', 2)).toBe(false);
    expect(keyframes.sent).toBe(2);
  });
});
