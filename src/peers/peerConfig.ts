import {
  RTCRtpCodecParameters,
  useAbsSendTime,
  useAudioLevelIndication,
  useFIR,
  useNACK,
  usePLI,
  useREMB,
  useSdesMid,
  type PeerConfig,
} from 'werift';
import { H264_PAYLOAD_TYPE, OPUS_PAYLOAD_TYPE, VP8_PAYLOAD_TYPE } from '../../base/rtp/payloadTypes.ts';

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface PeerNetworkOptions {
  /**
   * The host addresses ICE offers. A server bound to 127.0.0.1 offers only 127.0.0.1 and pairs
   * only with loopback candidates: this machine's LAN address is not a place tests may send to.
   */
  hostAddresses: string[];
  iceServers: IceServer[];
}

export function isLoopback(address: string): boolean {
  return address === 'localhost' || address.startsWith('127.') || address === '::1';
}

/** Host addresses ICE should use for an HTTP server listening on `listenHost`. */
export function iceHostAddresses(listenHost: string, announced: string[] = []): string[] {
  if (announced.length > 0) return announced;
  if (isLoopback(listenHost)) return ['127.0.0.1'];
  if (listenHost === '0.0.0.0' || listenHost === '::') return []; // every interface
  return [listenHost];
}

// NACK and PLI are negotiated so that lost packets are repaired and keyframes can be asked for.
const videoFeedback = () => [useNACK(), usePLI(), useFIR(), useREMB()];

export { H264_PAYLOAD_TYPE, OPUS_PAYLOAD_TYPE, VP8_PAYLOAD_TYPE };

export function videoCodecs(): RTCRtpCodecParameters[] {
  return [
    new RTCRtpCodecParameters({
      mimeType: 'video/VP8',
      clockRate: 90000,
      payloadType: VP8_PAYLOAD_TYPE,
      rtcpFeedback: videoFeedback(),
    }),
    new RTCRtpCodecParameters({
      mimeType: 'video/H264',
      clockRate: 90000,
      payloadType: H264_PAYLOAD_TYPE,
      rtcpFeedback: videoFeedback(),
      parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
    }),
  ];
}

export function audioCodecs(): RTCRtpCodecParameters[] {
  return [
    new RTCRtpCodecParameters({
      mimeType: 'audio/opus',
      clockRate: 48000,
      channels: 2,
      payloadType: OPUS_PAYLOAD_TYPE,
      parameters: 'minptime=10;useinbandfec=1',
    }),
  ];
}

/** werift configuration shared by the server's peers and the bot's. */
export function peerConfig(network: PeerNetworkOptions): Partial<PeerConfig> {
  const only = network.hostAddresses;
  const restricted = only.length > 0;
  return {
    iceServers: network.iceServers,
    codecs: { audio: audioCodecs(), video: videoCodecs() },
    // abs-send-time on video: a browser's REMB then comes from the time each packet left (werift
    // stamps it as it sends), not from RTP timestamps; README: The ladder.
    headerExtensions: { audio: [useSdesMid(), useAudioLevelIndication()], video: [useSdesMid(), useAbsSendTime()] },
    // With explicit addresses werift must not gather from every interface on its own.
    iceUseIpv4: !restricted,
    iceUseIpv6: false,
    ...(restricted
      ? {
          iceAdditionalHostAddresses: only,
          ...(only.length === 1 && only[0] ? { iceInterfaceAddresses: { udp4: only[0] } } : {}),
          iceFilterCandidatePair: (pair) =>
            !only.every(isLoopback) || (isLoopback(pair.localCandidate.host) && isLoopback(pair.remoteCandidate.host)),
          // Pairs werift learns from incoming checks skip the filter above: answer only loopback.
          iceFilterStunResponse: (_message, address) => !only.every(isLoopback) || isLoopback(address[0]),
        }
      : {}),
  };
}
