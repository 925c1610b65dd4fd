/** One RTP stream's codec as negotiated: what FFmpeg needs to know to depacketize it. */
export type RtpInputCodec =
  | { kind: 'video'; codec: 'VP8' | 'H264'; payloadType: number }
  | { kind: 'audio'; codec: 'opus'; payloadType: number };

/**
 * One RTP stream FFmpeg receives on 127.0.0.1:`port`. FFmpeg binds the port and the one above
 * it (RTCP), so give even ports with the next one free. Clock rates default to what RFC 7741
 * (VP8) and RFC 6184 (H.264) fix, 90 kHz, and RFC 7587 fixes for Opus, 48 kHz stereo.
 */
export type RtpStream = RtpInputCodec & { port: number; clockRate?: number; channels?: number };

function mediaLines(stream: RtpStream): string[] {
  const pt = stream.payloadType;
  if (stream.kind === 'audio') {
    return [`m=audio ${stream.port} RTP/AVP ${pt}`, `a=rtpmap:${pt} opus/${stream.clockRate ?? 48000}/${stream.channels ?? 2}`];
  }
  return [
    `m=video ${stream.port} RTP/AVP ${pt}`,
    `a=rtpmap:${pt} ${stream.codec}/${stream.clockRate ?? 90000}`,
    // The mode WebRTC sends (RFC 6184): FU-A fragments and STAP-A aggregates.
    ...(stream.codec === 'H264' ? [`a=fmtp:${pt} packetization-mode=1`] : []),
  ];
}

/**
 * The SDP file (RFC 4566) an FFmpeg reads to receive RTP streams on loopback ports, one media
 * section each in the given order. `session` is its `s=` line, which FFmpeg keeps as the
 * input's title (a recording's metadata).
 */
export function rtpSdp(session: string, streams: readonly RtpStream[]): string {
  if (streams.length === 0) throw new TypeError('an SDP needs a video or an audio stream');
  return [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    `s=${session}`,
    'c=IN IP4 127.0.0.1',
    't=0 0',
    ...streams.flatMap(mediaLines),
    '',
  ].join('\n');
}
