/** What FFmpeg needs to know to receive one RTP stream on a loopback port. */
export type RtpInputCodec =
  | { kind: 'video'; codec: 'VP8' | 'H264'; payloadType: number }
  | { kind: 'audio'; codec: 'opus'; payloadType: number };

/** The SDP file an FFmpeg decoder reads to receive one RTP stream on 127.0.0.1:`port` (RFC 4566). */
export function rtpInputSdp(port: number, stream: RtpInputCodec): string {
  const pt = stream.payloadType;
  const media =
    stream.kind === 'video'
      ? [
          `m=video ${port} RTP/AVP ${pt}`,
          `a=rtpmap:${pt} ${stream.codec}/90000`,
          ...(stream.codec === 'H264' ? [`a=fmtp:${pt} packetization-mode=1`] : []),
        ]
      : [`m=audio ${port} RTP/AVP ${pt}`, `a=rtpmap:${pt} opus/48000/2`];
  return [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    's=mcu',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    ...media,
    '',
  ].join('\n');
}
