import type { MediaStreamTrack } from 'werift';
import type { CompositeSources } from '../../mixer/SessionTypes.ts';
import { OutgoingStream } from '../peers/OutgoingStream.ts';
import { receivesH264 } from './RoomMembers.ts';
import type { NegotiatedMedia } from './ParticipantTypes.ts';

/**
 * The room's outgoing media and where it goes: the composite (VP8, and H.264 for clients without
 * VP8), the mix of everyone, and each audio publisher's own mix; the tracks a participant gets and
 * the taps a recording takes. These streams live as long as the room, so a session restart or a
 * compositor switch is invisible to the participants' senders. Exists so that Room decides who
 * gets what without holding a socket.
 */
export class RoomMedia {
  readonly #room: string;
  readonly composite: OutgoingStream;
  readonly compositeH264: OutgoingStream;
  readonly everyoneMix: OutgoingStream;
  #closed = false;

  /** `onCompositeSwitched`: the VP8 composite now sends this compositor's SSRC. */
  static async create(room: string, onCompositeSwitched: (ssrc: number) => void): Promise<RoomMedia> {
    const composite = await OutgoingStream.create({ kind: 'video', label: `${room} composite`, onSwitch: onCompositeSwitched });
    const compositeH264 = await OutgoingStream.create({ kind: 'video', codec: 'H264', label: `${room} composite H.264` });
    const everyoneMix = await OutgoingStream.create({ kind: 'audio', label: `${room} mix` });
    return new RoomMedia(room, composite, compositeH264, everyoneMix);
  }

  private constructor(room: string, composite: OutgoingStream, compositeH264: OutgoingStream, everyoneMix: OutgoingStream) {
    this.#room = room;
    this.composite = composite;
    this.compositeH264 = compositeH264;
    this.everyoneMix = everyoneMix;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Where a session sends the composite and the mix of everyone. */
  sessionPorts(): { compositePort: number; compositeH264Port: number; everyoneMixPort: number } {
    return { compositePort: this.composite.port, compositeH264Port: this.compositeH264.port, everyoneMixPort: this.everyoneMix.port };
  }

  /** A new compositor sends with these SSRCs: each composite switches to it at its first keyframe. */
  compositeStarted(sources: CompositeSources): void {
    // A compositor's first frame is a warm-up nobody may see (Session#startCompositor).
    const options = { skipFirstFrame: true };
    this.composite.expect(sources.vp8, options);
    if (sources.h264 !== undefined) this.compositeH264.expect(sources.h264, options);
  }

  /** A participant's own mix (everyone but itself), for one that publishes audio. */
  createMix(participantId: string): Promise<OutgoingStream> {
    return OutgoingStream.create({ kind: 'audio', label: `${this.#room} mix for ${participantId}` });
  }

  /** The tracks a participant receives: the composite in its codec, and its own mix or everyone's. */
  tracksFor(media: NegotiatedMedia, mix: OutgoingStream | undefined): { videoTrack?: MediaStreamTrack; audioTrack?: MediaStreamTrack } {
    const plan = media.plan;
    const composite = receivesH264(media) ? this.compositeH264 : this.composite;
    return {
      ...(plan.video?.receives ? { videoTrack: composite.attach() } : {}),
      ...(plan.audio?.receives ? { audioTrack: (mix ?? this.everyoneMix).attach() } : {}),
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
  }
}
