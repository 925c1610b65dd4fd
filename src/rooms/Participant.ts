import { createSocket, type Socket } from 'node:dgram';
import { RTCPeerConnection, type MediaStreamTrack, type RTCRtpCodecParameters, type RTCRtpTransceiver } from 'werift';
import { createLogger } from '../../base/log/logger.ts';
import { TypedEmitter } from '../../base/TypedEmitter.ts';
import { BadRequestError, ProtocolError, UnsupportedOfferError } from '../errors.ts';
import { planOffer } from '../peers/offer.ts';
import { IncomingChain } from '../media/incoming/IncomingChain.ts';
import type { KeyframeReason } from '../media/incoming/PublisherKeyframes.ts';
import { onKeyframeRequest } from '../peers/keyframeRequests.ts';
import { nackCounts, type NackCounts } from '../peers/nackCounts.ts';
import { peerConfig } from '../peers/peerConfig.ts';
import { actAsDtlsServer, boundRetransmissions, dropDefaultStun } from '../peers/weriftQuirks.ts';
import type { SessionParticipantPorts } from '../../mixer/SessionTypes.ts';
import type { IceCandidateInit } from '../signaling/messages.ts';
import type {
  NegotiatedMedia,
  ParticipantEvents,
  ParticipantObserverEvents,
  ParticipantOptions,
  ParticipantRole,
} from './ParticipantTypes.ts';

const log = createLogger('Participant');

/** The audio level header extension (RFC 6464): the incoming chain's audio level link reads it. */
const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';

/** Candidates a client may trickle before its offer; more is a misbehaving client. */
const MAX_EARLY_CANDIDATES = 64;

/**
 * One participant: its werift peer connection, its incoming RTP forwarded to the session's
 * decoders on loopback, and the composite and mix tracks it receives. Created by `Room.join()`.
 */
export class Participant extends TypedEmitter<ParticipantEvents> {
  readonly id: string;
  readonly name: string;
  readonly observer = new TypedEmitter<ParticipantObserverEvents>();
  readonly #options: ParticipantOptions;
  readonly #unsubscribes: (() => void)[] = [];
  #pc?: RTCPeerConnection;
  readonly #sockets: Socket[] = [];
  #media?: NegotiatedMedia;
  #videoTransceiver?: RTCRtpTransceiver;
  /** What it publishes, on its way to the decoders: one chain per kind. */
  readonly #incoming: { audio?: IncomingChain; video?: IncomingChain } = {};
  #earlyCandidates: IceCandidateInit[] = [];
  #disconnectTimer?: NodeJS.Timeout;
  #connectTimer?: NodeJS.Timeout;
  #closed = false;
  #connected = false;

  constructor(options: ParticipantOptions) {
    super();
    this.#options = options;
    this.id = options.id;
    this.name = options.name;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get connected(): boolean {
    return this.#connected;
  }

  get role(): ParticipantRole {
    const plan = this.#media?.plan;
    return plan?.audio?.publishes || plan?.video?.publishes ? 'publisher' : 'viewer';
  }

  /**
   * What the incoming chain did to this participant's video (undefined: it publishes none):
   * `keyframeRequests` counts every PLI sent to it, whatever asked for it.
   */
  get videoIngest(): { framesDropped: number; losses: number; keyframeRequests: number; decoderBehind: number } | undefined {
    const video = this.#incoming.video;
    if (!video) return undefined;
    const { framesDropped, losses, decoderBehind } = video.figures;
    return { framesDropped, losses, keyframeRequests: video.keyframes?.sent ?? 0, decoderBehind };
  }

  /** The audio level it last reported (RFC 6464), if it publishes audio with the extension. */
  get audioLevel(): { dBov: number; voice: boolean } | undefined {
    return this.#incoming.audio?.figures.audioLevel;
  }

  /** Its audio is silence, held back from its decoder now (SilenceGate). */
  get audioHeld(): boolean {
    return this.#incoming.audio?.figures.silent ?? false;
  }

  /** Listed to nobody (a hidden or recorder token). */
  get hidden(): boolean {
    return this.#options.access?.hidden ?? false;
  }

  get publishesAudio(): boolean {
    return this.#media?.plan.audio?.publishes ?? false;
  }

  /** Answers the client's offer; throws a ProtocolError the client is told about. */
  async negotiate(sdp: string): Promise<void> {
    if (this.#closed) throw new BadRequestError('participant has left');
    if (this.#pc) throw new BadRequestError('an offer was already answered; renegotiation is not supported');
    const plan = planOffer(sdp);
    if ('error' in plan) throw new UnsupportedOfferError(plan.error);

    const pc = new RTCPeerConnection(
      peerConfig({ hostAddresses: this.#options.hostAddresses, iceServers: this.#options.iceServers }),
    );
    this.#pc = pc;
    this.#watchConnection(pc);
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp });
    } catch (error) {
      // A refused offer leaves no peer behind, so the client may send a better one.
      this.#pc = undefined;
      for (const unsubscribe of this.#unsubscribes.splice(0)) unsubscribe();
      await pc.close().catch(() => {});
      throw new UnsupportedOfferError(`the offer could not be applied: ${(error as Error).message}`);
    }
    dropDefaultStun(pc, this.#options.iceServers);
    actAsDtlsServer(pc);
    const transceivers = pc.getTransceivers();
    const audio = transceivers.find((t) => t.kind === 'audio');
    const video = transceivers.find((t) => t.kind === 'video');
    const media: NegotiatedMedia = { plan };
    const videoCodec = this.#chooseCodec(video, plan.video?.codec);
    const audioCodec = this.#chooseCodec(audio, plan.audio?.codec);
    if (plan.video?.publishes && videoCodec) {
      media.video = { codec: plan.video.codec === 'H264' ? 'H264' : 'VP8', payloadType: videoCodec.payloadType };
    }
    if (plan.audio?.publishes && audioCodec) media.audio = { payloadType: audioCodec.payloadType };
    this.#media = media;

    const attached = await this.#options.hooks.attach({ id: this.id, name: this.name }, media);
    // Its tracks are its own (OutgoingStream.attach): stopped, they are fed no more.
    const stopTracks = (): void => {
      attached.videoTrack?.stop();
      attached.audioTrack?.stop();
    };
    if (this.#closed) return stopTracks();
    // A token without canSubscribe: the answer sends nothing back.
    if (this.#options.access?.subscribe === false) {
      stopTracks();
      Object.assign(attached, { videoTrack: undefined, audioTrack: undefined });
    }
    this.#unsubscribes.push(stopTracks);
    // The answer does not wait for the session (its process may still be starting: 2.5 s on a
    // busy machine): what the client publishes goes to its decoders once they listen.
    const ports = attached.ports.catch((error: unknown): SessionParticipantPorts => {
      if (!this.#closed && !(error instanceof ProtocolError && error.code === 'not_joined')) {
        log.error({ participant: this.id, err: (error as Error).message }, 'the session could not take the participant');
        const code = error instanceof ProtocolError ? error.code : 'internal';
        this.#options.signal.send({ type: 'error', code, message: error instanceof ProtocolError ? error.message : 'the mixer could not take your media; join again' });
        this.close('session failed');
      }
      return {};
    });
    this.#setUp(audio, plan.audio, attached.audioTrack, media.audio !== undefined, ports.then((p) => p.audioPort));
    this.#setUp(video, plan.video, attached.videoTrack, media.video !== undefined, ports.then((p) => p.videoPort));
    this.#videoTransceiver = video;
    if (video?.dtlsTransport && attached.videoTrack && attached.onSending) {
      // The composite's reports only: the mix's numbering has gaps where the pacer drops what came
      // in a burst (README, Latency), which a receiver reports as loss and the link never lost.
      const ours = new Set([video.sender.ssrc]);
      attached.onSending({ transport: video.dtlsTransport, ssrcs: () => ours });
    }
    if (video && attached.videoTrack) {
      this.#unsubscribes.push(onKeyframeRequest(video, () => this.observer.safeEmit('keyframerequest')));
    }

    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    if (this.#closed) return;
    // werift has gathered by now: its candidates are in the answer and none are trickled.
    this.#options.signal.send({ type: 'answer', sdp: pc.localDescription?.sdp ?? answer.sdp });
    for (const candidate of this.#earlyCandidates) await this.addCandidate(candidate);
    this.#earlyCandidates = [];
    this.#connectTimer = setTimeout(() => {
      if (!this.#connected) this.close(`not connected ${this.#options.connectTimeoutMs / 1000} s after the answer`);
    }, this.#options.connectTimeoutMs);
    log.info({ participant: this.id, role: this.role, media }, 'answered offer');
  }

  async addCandidate(candidate: IceCandidateInit | null): Promise<void> {
    if (this.#closed || candidate === null || !candidate.candidate) return;
    const pc = this.#pc;
    if (!pc?.remoteDescription) {
      if (this.#earlyCandidates.length >= MAX_EARLY_CANDIDATES) throw new BadRequestError('too many candidates before the offer');
      this.#earlyCandidates.push(candidate);
      return;
    }
    try {
      await pc.addIceCandidate({
        candidate: candidate.candidate,
        sdpMid: candidate.sdpMid ?? undefined,
        sdpMLineIndex: candidate.sdpMLineIndex ?? undefined,
      });
    } catch (error) {
      throw new BadRequestError(`candidate refused: ${(error as Error).message}`);
    }
  }

  /** How many of its video frames the session has decoded (the frame gate link watches for lag). */
  decoderProgress(decoded: number): void {
    this.#incoming.video?.decoded(decoded);
  }

  /** Its video decoder needs a keyframe: the keyframe request link decides whether to send a PLI now. */
  requestKeyframe(reason: KeyframeReason): void {
    if (!this.#closed) this.#incoming.video?.needKeyframe(reason);
  }

  /** Sends the publisher a PLI (RFC 4585 §6.3.1) about `ssrc`. */
  #sendPli(ssrc: number): void {
    if (this.#closed || !this.#videoTransceiver) return;
    this.#videoTransceiver.receiver.sendRtcpPLI(ssrc).catch(() => {});
  }

  /** NACKs it sent about the composite and mix, and we sent about its media (for metrics). */
  get nacks(): NackCounts {
    return nackCounts(this.#pc);
  }

  /** Leaves the room. Idempotent. */
  close(reason = 'left'): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#disconnectTimer);
    clearTimeout(this.#connectTimer);
    for (const unsubscribe of this.#unsubscribes) unsubscribe();
    for (const socket of this.#sockets) socket.close();
    this.#pc?.close().catch(() => {});
    log.info({ participant: this.id, name: this.name, reason }, 'participant closed');
    this.safeEmit('@close', reason);
    this.observer.safeEmit('close', reason);
  }

  /** The room is closing: same as close, without the room hearing back about it. */
  roomClosed(): void {
    this.removeAllListeners();
    this.close('room closed');
  }

  #chooseCodec(transceiver: RTCRtpTransceiver | undefined, name: string | undefined) {
    if (!transceiver || !name) return undefined;
    const candidates = transceiver.codecs.filter((c) => c.mimeType.toLowerCase() === `${transceiver.kind}/${name}`.toLowerCase());
    // H.264: what the compositor sends is constrained baseline in packetization mode 1 (RFC 6184).
    const score = (c: RTCRtpCodecParameters): number =>
      name === 'H264'
        ? Number(/packetization-mode=1/.test(c.parameters ?? '')) * 2 + Number(/profile-level-id=42/i.test(c.parameters ?? ''))
        : 0;
    const codec = candidates.sort((a, b) => score(b) - score(a))[0];
    if (!codec) throw new UnsupportedOfferError(`no ${name} ${transceiver.kind} codec could be negotiated`);
    // One codec per section: the client then sends exactly what the decoder expects.
    transceiver.codecs = [codec];
    return codec;
  }

  #setUp(
    transceiver: RTCRtpTransceiver | undefined,
    plan: { publishes: boolean; receives: boolean } | undefined,
    outgoing: MediaStreamTrack | undefined,
    negotiated: boolean,
    port: Promise<number | undefined>,
  ): void {
    if (!transceiver) return;
    const receives = !!plan?.receives && !!outgoing;
    const publishes = !!plan?.publishes && negotiated;
    transceiver.setDirection(publishes ? (receives ? 'sendrecv' : 'recvonly') : receives ? 'sendonly' : 'inactive');
    if (receives && outgoing) {
      transceiver.sender.replaceTrack(outgoing);
      boundRetransmissions(transceiver.sender);
    }
    if (!publishes) return;
    const kind = transceiver.kind === 'audio' ? 'audio' : 'video';
    // A connected socket: send() then skips the address lookup it would do for every packet.
    const socket = createSocket('udp4');
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // ECONNREFUSED: the decoder is not listening yet (starting or restarting); the packet is lost either way.
      if (error.code === 'ECONNREFUSED') log.debug({ participant: this.id }, 'decoder not listening yet');
      else log.warn({ participant: this.id, err: error.message }, 'udp send failed');
    });
    this.#sockets.push(socket);
    // Until the session has given the decoder's port, packets have nowhere to go.
    let connected = false;
    void port.then((p) => {
      if (p === undefined || this.#closed) return;
      socket.connect(p, '127.0.0.1', () => (connected = true));
    });
    const chain = new IncomingChain({
      kind,
      codec: kind === 'video' ? (this.#media?.video?.codec ?? 'VP8') : 'opus',
      pli: transceiver.codecs.some((c) => c.rtcpFeedback.some((f) => f.type === 'nack' && f.parameter === 'pli')),
      audioLevelId: transceiver.headerExtensions.find((e) => e.uri === AUDIO_LEVEL_URI)?.id,
      decodeSilence: this.#options.decodeSilence ?? false,
      forward: (packet) => {
        if (connected) socket.send(packet);
      },
      sendPli: (ssrc) => this.#sendPli(ssrc),
    });
    this.#incoming[kind] = chain;
    this.#unsubscribes.push(() => chain.close());
    log.debug({ participant: this.id, kind, links: chain.links }, 'incoming chain');
    const forward = (track: MediaStreamTrack): void => {
      log.debug({ participant: this.id, kind, ssrc: track.ssrc }, 'receiving track');
      const rtp = track.onReceiveRtp.subscribe((packet) => {
        chain.push(packet.serialize());
      });
      this.#unsubscribes.push(rtp.unSubscribe);
    };
    // werift creates the track during setRemoteDescription when the offer names its SSRC, and
    // only on the first packet otherwise: take both.
    for (const track of transceiver.receiver.tracks) forward(track);
    const sub = transceiver.onTrack.subscribe((track) => forward(track));
    this.#unsubscribes.push(sub.unSubscribe);
  }

  #watchConnection(pc: RTCPeerConnection): void {
    const sub = pc.connectionStateChange.subscribe((state) => {
      log.debug({ participant: this.id, state }, 'connection state');
      if (state === 'connected') {
        this.#connected = true;
        clearTimeout(this.#connectTimer);
        clearTimeout(this.#disconnectTimer);
        this.#disconnectTimer = undefined;
        this.observer.safeEmit('connected');
        // A new receiver cannot decode until the next keyframe: ask for one now, not at the GOP's end.
        if (this.#media?.plan.video?.receives) this.observer.safeEmit('keyframerequest');
      } else if (state === 'disconnected') {
        this.#disconnectTimer ??= setTimeout(
          () => this.close('connection lost'),
          this.#options.disconnectTimeoutMs,
        );
      } else if (state === 'failed' || state === 'closed') {
        this.close(`connection ${state}`);
      }
    });
    this.#unsubscribes.push(sub.unSubscribe);
  }
}
