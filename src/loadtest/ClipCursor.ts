/**
 * When each frame of a looping clip is due, for one publisher. Pure: the caller passes the time.
 *
 * A publisher's clip starts at its `epoch` (ms, on the caller's clock); frame k of loop L is due
 * at epoch + L × duration + pts(k). That moment stands for the instant a camera captured the
 * frame: the latency reader takes the clip time drawn into the picture, adds the loop's start,
 * and so measures from capture to arrival, glass to glass, with no clock inside the picture.
 */

export interface ClipTimeline {
  durationMs: number;
  /** Time of each video frame from the start of the clip, ms, increasing, below durationMs. */
  videoPtsMs: readonly number[];
  audioFrames: number;
  audioFrameMs: number;
}

export interface DueItem {
  kind: 'video' | 'audio';
  /** Frame index within the clip. */
  index: number;
  loop: number;
  /** When it was due (caller's clock): `now - dueAt` is how late it goes out. */
  dueAt: number;
  /** RTP timestamp from the clip's first frame: 90 kHz video, 48 kHz Opus (RFC 7587). */
  rtpTicks: number;
}

const VIDEO_CLOCK_PER_MS = 90;
const AUDIO_CLOCK_PER_MS = 48;

export class ClipCursor {
  readonly #timeline: ClipTimeline;
  readonly #epoch: number;
  readonly #next = { video: { loop: 0, index: 0 }, audio: { loop: 0, index: 0 } };

  constructor(timeline: ClipTimeline, epoch: number) {
    if (timeline.videoPtsMs.length === 0 && timeline.audioFrames === 0) throw new RangeError('an empty clip');
    if (timeline.videoPtsMs.some((pts) => pts < 0 || pts >= timeline.durationMs)) throw new RangeError('a frame outside the clip');
    this.#timeline = timeline;
    this.#epoch = epoch;
  }

  get epoch(): number {
    return this.#epoch;
  }

  /**
   * The moment the frame whose code reads `codeMs` (clip time) was captured: the latest loop
   * start for which that moment is not after `arrival + slackMs` (a frame cannot arrive before
   * it was captured; the slack allows for rounding and clocks read on two threads).
   */
  capturedAt(codeMs: number, arrival: number, slackMs = 50): number {
    const d = this.#timeline.durationMs;
    const loop = Math.floor((arrival + slackMs - this.#epoch - codeMs) / d);
    return this.#epoch + loop * d + codeMs;
  }

  /** Every item due at or before `now` since the last call, in due order (video first at a tie). */
  due(now: number, maxItems = 10_000): DueItem[] {
    const out: DueItem[] = [];
    for (;;) {
      const video = this.#peek('video');
      const audio = this.#peek('audio');
      const item = video && (!audio || video.dueAt <= audio.dueAt) ? video : audio;
      if (!item || item.dueAt > now || out.length >= maxItems) return out;
      out.push(item);
      const next = this.#next[item.kind];
      const count = item.kind === 'video' ? this.#timeline.videoPtsMs.length : this.#timeline.audioFrames;
      next.index++;
      if (next.index >= count) {
        next.index = 0;
        next.loop++;
      }
    }
  }

  /** When the next item is due. */
  nextDueAt(): number {
    const times = [this.#peek('video')?.dueAt, this.#peek('audio')?.dueAt].filter((t): t is number => t !== undefined);
    return Math.min(...times);
  }

  #peek(kind: 'video' | 'audio'): DueItem | undefined {
    const t = this.#timeline;
    const { loop, index } = this.#next[kind];
    const loopStart = loop * t.durationMs;
    if (kind === 'video') {
      const pts = t.videoPtsMs[index];
      if (pts === undefined) return undefined;
      return { kind, index, loop, dueAt: this.#epoch + loopStart + pts, rtpTicks: Math.round((loopStart + pts) * VIDEO_CLOCK_PER_MS) };
    }
    if (t.audioFrames === 0) return undefined;
    const at = loopStart + index * t.audioFrameMs;
    return { kind, index, loop, dueAt: this.#epoch + at, rtpTicks: Math.round(at * AUDIO_CLOCK_PER_MS) };
  }
}
