import type { WriteStream } from 'node:fs';
import { RtcpHeader, RtcpPayloadSpecificFeedback, type RTCRtpTransceiver, type RtpPacket } from 'werift';
import { createLogger } from '../../base/log/logger.ts';
import type { KeyframeRequestKind } from '../peers/keyframeRequests.ts';
import { FIR_FORMAT, firBody } from '../rtp/rtcpFeedback.ts';
import type { BotStats } from './BotTypes.ts';
import type { Kind } from './botSupport.ts';
import { describeCodec, isKeyframeStart, type ReceivedCodec } from './clientPeer.ts';
import { ReceiveCounter } from './ReceiveCounter.ts';

const log = createLogger('Bot');

/** Ask the server for a keyframe this often until the first one arrives (RFC 4585 PLI). */
const PLI_RETRY_MS = 1000;

/**
 * What the bot receives, the composite and the mix: counted into the bot's stats, each video
 * frame written to the frame log, keyframes asked for (PLI) until the first one arrives, and
 * PLIs or FIRs sent on request. Every packet then goes on to `onPacket` (the recorder).
 */
export class BotReceiver {
  readonly #stats: BotStats;
  readonly #counter: ReceiveCounter;
  readonly #onPacket: (kind: Kind, rtp: RtpPacket) => void;
  #transceivers: Partial<Record<Kind, RTCRtpTransceiver>> = {};
  readonly #codecs: Partial<Record<Kind, Map<number, ReceivedCodec>>> = {};
  #frameLog: WriteStream | undefined;
  #pliTimer: NodeJS.Timeout | undefined;
  /** FIR command sequence number: each new request carries the next (RFC 5104 §4.3.1.1). */
  #firSequence = 0;
  #remoteVideoSsrc: number | undefined;

  constructor(stats: BotStats, onPacket: (kind: Kind, rtp: RtpPacket) => void) {
    this.#stats = stats;
    this.#counter = new ReceiveCounter(stats);
    this.#onPacket = onPacket;
  }

  /** The SSRC of the composite, once a packet of it has arrived. */
  get remoteVideoSsrc(): number | undefined {
    return this.#remoteVideoSsrc;
  }

  set frameLog(stream: WriteStream) {
    this.#frameLog = stream;
  }

  /** Reads what the answer negotiated: the codecs the server will send on each transceiver. */
  negotiated(transceivers: Partial<Record<Kind, RTCRtpTransceiver>>): void {
    this.#transceivers = transceivers;
    for (const [kind, transceiver] of Object.entries(transceivers) as [Kind, RTCRtpTransceiver][]) {
      this.#codecs[kind] = new Map(transceiver.codecs.map((c) => [c.payloadType, describeCodec(c)]));
      log.debug({ kind, codecs: transceiver.codecs.map((c) => `${c.payloadType} ${c.mimeType}`) }, 'negotiated');
    }
  }

  receive(kind: Kind, rtp: RtpPacket): void {
    const { header, payload } = rtp;
    if (kind === 'audio') {
      this.#counter.audio(payload.length);
    } else {
      this.#remoteVideoSsrc = header.ssrc;
      const keyframe = isKeyframeStart(this.#codecs[kind]?.get(header.payloadType), rtp);
      const now = Date.now();
      const { newFrame } = this.#counter.video({ ...header, payloadBytes: payload.length, keyframe }, now);
      if (newFrame) this.#frameLog?.write(`${now} ${header.timestamp}${keyframe ? ' k' : ''}\n`);
      if (keyframe) {
        this.stopAskingForKeyframes();
      } else if (this.#stats.keyframes === 0 && !this.#pliTimer) {
        this.#askForKeyframes(header.ssrc);
      }
    }
    this.#onPacket(kind, rtp);
  }

  /** One PLI (RFC 4585 6.3.1) about the composite, if one has arrived; false if none could be sent. */
  sendPli(why: string): boolean {
    const receiver = this.#transceivers.video?.receiver;
    const ssrc = this.#remoteVideoSsrc;
    if (!receiver || ssrc === undefined) return false;
    log.debug({ ssrc }, why);
    receiver.sendRtcpPLI(ssrc).catch((error: unknown) => log.debug({ err: error }, 'PLI not sent'));
    return true;
  }

  /** A PLI or a FIR about the composite; returns when (ms since the epoch), or undefined before any composite. */
  requestKeyframe(kind: KeyframeRequestKind): number | undefined {
    const receiver = this.#transceivers.video?.receiver;
    const ssrc = this.#remoteVideoSsrc;
    if (!receiver || ssrc === undefined) return undefined;
    const at = Date.now();
    if (kind === 'PLI') {
      this.sendPli('keyframe request (PLI)');
    } else {
      // werift's ESM entry has no FullIntraRequest to build: it parses one from its bytes.
      const body = firBody(receiver.rtcpSsrc, ssrc, ++this.#firSequence);
      const fir = RtcpPayloadSpecificFeedback.deSerialize(body, new RtcpHeader({ count: FIR_FORMAT }));
      receiver.dtlsTransport.sendRtcp([fir]).catch((error: unknown) => log.debug({ err: error }, 'FIR not sent'));
    }
    return at;
  }

  /** Stops asking and closes the frame log. */
  async close(): Promise<void> {
    this.stopAskingForKeyframes();
    const frameLog = this.#frameLog;
    this.#frameLog = undefined;
    if (frameLog) await new Promise<void>((resolve) => frameLog.end(resolve));
  }

  /** PLI now and every second until a keyframe arrives. */
  #askForKeyframes(ssrc: number): void {
    const send = (): void => void this.sendPli('asking the server for a keyframe');
    if (!this.#transceivers.video) return;
    log.debug({ ssrc }, 'no keyframe yet');
    send();
    this.#pliTimer = setInterval(send, PLI_RETRY_MS);
  }

  stopAskingForKeyframes(): void {
    if (this.#pliTimer) clearInterval(this.#pliTimer);
    this.#pliTimer = undefined;
  }
}
