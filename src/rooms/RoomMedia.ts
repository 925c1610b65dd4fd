import type { CompositeSources } from '../../mixer/SessionTypes.ts';
import { ViewerChain } from '../media/outgoing/ViewerChain.ts';
import { OutgoingStream } from '../peers/OutgoingStream.ts';
import { receivesH264 } from './RoomMembers.ts';
import type { NegotiatedMedia } from './ParticipantTypes.ts';

/**
 * The room's outgoing media and where it goes: the composite (VP8, and H.264 for clients without
 * VP8), the mix of everyone, and each audio publisher's own mix; the tracks a participant gets and
 * the taps a recording takes; and the composite's lower rungs (VP8), which viewers on weak links
 * move to (src/ladder). These streams live as long as the room, so a session restart or a
 * compositor switch is invisible to the participants' senders. Exists so that Room decides who
 * gets what without holding a socket.
 */
export class RoomMedia {
  readonly #room: string;
  readonly composite: OutgoingStream;
  readonly compositeH264: OutgoingStream;
  readonly everyoneMix: OutgoingStream;
  /** The composite's lower rungs, best first (the session's `rungs`). */
  readonly rungs: readonly OutgoingStream[];
  #closed = false;

  /** `onCompositeSwitched`: the VP8 composite now sends this compositor's SSRC. */
  static async create(room: string, rungCount: number, onCompositeSwitched: (ssrc: number) => void): Promise<RoomMedia> {
    const composite = await OutgoingStream.create({ kind: 'video', label: `${room} composite`, onSwitch: onCompositeSwitched });
    const compositeH264 = await OutgoingStream.create({ kind: 'video', codec: 'H264', label: `${room} composite H.264` });
    const everyoneMix = await OutgoingStream.create({ kind: 'audio', label: `${room} mix` });
    const rungs: OutgoingStream[] = [];
    for (let i = 1; i <= rungCount; i++) rungs.push(await OutgoingStream.create({ kind: 'video', label: `${room} composite rung ${i}` }));
    return new RoomMedia(room, composite, compositeH264, everyoneMix, rungs);
  }

  private constructor(room: string, composite: OutgoingStream, compositeH264: OutgoingStream, everyoneMix: OutgoingStream, rungs: OutgoingStream[]) {
    this.#room = room;
    this.composite = composite;
    this.compositeH264 = compositeH264;
    this.everyoneMix = everyoneMix;
    this.rungs = rungs;
  }

  /** What a VP8 viewer may receive, best first: the composite, then its lower rungs. */
  get renditions(): readonly OutgoingStream[] {
    return [this.composite, ...this.rungs];
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Where a session sends the composite and the mix of everyone. */
  sessionPorts(): { compositePort: number; compositeH264Port: number; everyoneMixPort: number; rungPorts: number[] } {
    return {
      compositePort: this.composite.port,
      compositeH264Port: this.compositeH264.port,
      everyoneMixPort: this.everyoneMix.port,
      rungPorts: this.rungs.map((rung) => rung.port),
    };
  }

  /** A new compositor sends with these SSRCs: each composite switches to it at its first keyframe. */
  compositeStarted(sources: CompositeSources): void {
    // A compositor's first frame is a warm-up nobody may see (Session#startCompositor).
    const options = { skipFirstFrame: true };
    this.composite.expect(sources.vp8, options);
    if (sources.h264 !== undefined) this.compositeH264.expect(sources.h264, options);
    for (const { index, ssrc } of sources.rungs ?? []) this.rungs[index]?.expect(ssrc, options);
  }

  /** A participant's own mix (everyone but itself), for one that publishes audio. */
  createMix(participantId: string): Promise<OutgoingStream> {
    return OutgoingStream.create({ kind: 'audio', label: `${this.#room} mix for ${participantId}` });
  }

  /**
   * The chains a participant receives through: the composite in its codec (a VP8 one may move
   * between the rungs), and its own mix or everyone's. Each ends in a track of its own.
   */
  chainsFor(media: NegotiatedMedia, mix: OutgoingStream | undefined): { video?: ViewerChain; audio?: ViewerChain } {
    const plan = media.plan;
    const composite = receivesH264(media) ? this.compositeH264 : this.composite;
    return {
      ...(plan.video?.receives ? { video: new ViewerChain(composite) } : {}),
      ...(plan.audio?.receives ? { audio: new ViewerChain(mix ?? this.everyoneMix) } : {}),
    };
  }

  /** Taps the composite (in `h264` or VP8) and the mix of everyone; returns the unsubscribes. */
  tap(h264: boolean, push: (kind: 'video' | 'audio', packet: Buffer) => void): (() => void)[] {
    const video = h264 ? this.compositeH264 : this.composite;
    return [video.onRtp((packet) => push('video', packet)), this.everyoneMix.onRtp((packet) => push('audio', packet))];
  }

  /** Closes the room's streams (each participant's mix goes with its member). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.composite.close();
    this.compositeH264.close();
    this.everyoneMix.close();
    for (const rung of this.rungs) rung.close();
  }
}
