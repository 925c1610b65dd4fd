import type { RTCPeerConnection, RTCRtpCodecParameters, RtpPacket } from 'werift';
import type { BotVideoCodecName } from './botArgs.ts';
import { createLogger } from '../../base/log/logger.ts';
import { H264_PAYLOAD_TYPE, VP8_PAYLOAD_TYPE, peerConfig, videoCodecs, type IceServer } from '../peers/peerConfig.ts';
import { h264PayloadStartsKeyframe } from '../rtp/h264.ts';
import { vp8PayloadStartsKeyframe } from '../rtp/vp8.ts';
import type { IceCandidateInit, SignalingClient } from '../signaling/SignalingClient.ts';
import type { BotVideoCodec } from './BotTypes.ts';

/**
 * What a headless client of the protocol needs whatever it publishes: the codecs it offers, the
 * offer/answer exchange with trickle ICE, and recognising what it receives. Shared by the bot
 * (one client per process) and the load generator (many clients in one process).
 */

const log = createLogger('clientPeer');

/** How each `--codec` is offered, sent and recognised in the answer. */
export const VIDEO_CODECS: Record<BotVideoCodec, { name: BotVideoCodecName; mimeType: string; payloadType: number }> = {
  vp8: { name: 'VP8', mimeType: 'video/vp8', payloadType: VP8_PAYLOAD_TYPE },
  h264: { name: 'H264', mimeType: 'video/h264', payloadType: H264_PAYLOAD_TYPE },
};

/**
 * The server's werift configuration, with the client's video codecs: `vp8` offers everything the
 * server does (VP8 first), `h264` only the H.264 entry, unchanged (payload type, rtcp-fb, fmtp),
 * so the offer has no VP8 and the server treats the client as an H.264-only client.
 */
export function clientPeerConfig(codec: BotVideoCodec, iceServers: IceServer[]): ReturnType<typeof peerConfig> {
  const config = peerConfig({ hostAddresses: ['127.0.0.1'], iceServers });
  if (codec === 'vp8') return config;
  const mimeType = VIDEO_CODECS[codec].mimeType;
  const video = videoCodecs().filter((c) => c.mimeType.toLowerCase() === mimeType);
  return { ...config, codecs: { ...config.codecs, video } };
}

export interface ReceivedCodec {
  name: 'VP8' | 'H264' | 'opus' | 'other';
  payloadType: number;
  clockRate: number;
  channels: number;
}

export function describeCodec(c: RTCRtpCodecParameters): ReceivedCodec {
  const mime = c.mimeType.toLowerCase();
  const name = mime === 'video/vp8' ? 'VP8' : mime === 'video/h264' ? 'H264' : mime === 'audio/opus' ? 'opus' : 'other';
  return { name, payloadType: c.payloadType, clockRate: c.clockRate, channels: c.channels ?? 2 };
}

/**
 * True for the first packet of a VP8 keyframe, or a packet that starts an H.264 keyframe (RFC 6184: its SPS
 * or its IDR slice), read from the payload's bytes: werift's H264RtpPayload cannot say for a
 * STAP-A (it reads the NAL size as a type), which is how FFmpeg sends SPS and PPS, and parsing
 * every packet into objects cost a receiver more than the rest of its counting.
 */
export function isKeyframeStart(codec: ReceivedCodec | undefined, rtp: RtpPacket): boolean {
  if (codec?.name === 'VP8') return vp8PayloadStartsKeyframe(rtp.payload);
  if (codec?.name === 'H264') return h264PayloadStartsKeyframe(rtp.payload);
  return false;
}

/**
 * Sends the offer and applies the answer (the protocol's flow, step 4), with trickle ICE: werift
 * gathers during setLocalDescription, so candidates found before the offer is sent are already in
 * its SDP; the others follow it, then the end-of-candidates `null`. Remote candidates are added as
 * they come. Subscriptions go to `unsubscribes` (the caller's, run when it closes).
 */
export async function offerAndAnswer(pc: RTCPeerConnection, signaling: SignalingClient, unsubscribes: (() => void)[]): Promise<void> {
  let offerSdp: string | undefined;
  const early: (IceCandidateInit | null)[] = [];
  const sendCandidate = (candidate: IceCandidateInit | null): void => {
    if (candidate?.candidate && offerSdp?.includes(candidate.candidate)) return;
    signaling.sendCandidate(candidate);
  };
  unsubscribes.push(
    pc.onIceCandidate.subscribe((c) => {
      const candidate: IceCandidateInit | null = c
        ? { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null }
        : null;
      if (offerSdp === undefined) early.push(candidate);
      else sendCandidate(candidate);
    }).unSubscribe,
    signaling.subscribe('candidate', (candidate) => {
      pc.addIceCandidate(candidate).catch((error: unknown) => log.warn({ err: error }, 'remote candidate refused'));
    }),
  );
  const answered = new Promise<string>((resolve) => {
    unsubscribes.push(signaling.subscribe('answer', resolve));
  });
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  offerSdp = pc.localDescription?.sdp ?? offer.sdp;
  signaling.sendOffer(offerSdp);
  for (const candidate of early.splice(0)) sendCandidate(candidate);
  await pc.setRemoteDescription({ type: 'answer', sdp: await answered });
}
