import { describe, expect, it, test } from 'vitest';
import { rtpSdp, type RtpInputCodec } from '../../base/rtp/sdp.ts';

/** A decoder's SDP: one stream, session `mcu` (mixer/ffmpeg/Decoder.ts). */
const rtpInputSdp = (port: number, codec: RtpInputCodec): string => rtpSdp('mcu', [{ ...codec, port }]);

const SESSION = ['v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=mcu', 'c=IN IP4 127.0.0.1', 't=0 0'];

describe('rtpSdp() for a decoder (one stream)', () => {
  it.each<[string, number, RtpInputCodec, string[]]>([
    ['describes a VP8 stream on a loopback port with a 90 kHz clock', 40002, { kind: 'video', codec: 'VP8', payloadType: 96 }, ['m=video 40002 RTP/AVP 96', 'a=rtpmap:96 VP8/90000']],
    [
      'gives H264 its packetization-mode=1 fmtp line',
      40006,
      { kind: 'video', codec: 'H264', payloadType: 102 },
      ['m=video 40006 RTP/AVP 102', 'a=rtpmap:102 H264/90000', 'a=fmtp:102 packetization-mode=1'],
    ],
    ['describes Opus as 48 kHz with two channels (RFC 7587)', 40004, { kind: 'audio', codec: 'opus', payloadType: 111 }, ['m=audio 40004 RTP/AVP 111', 'a=rtpmap:111 opus/48000/2']],
  ])('%s', (_what, port, codec, media) => {
    expect(rtpInputSdp(port, codec)).toBe([...SESSION, ...media, ''].join('\n'));
  });

  test.each<[string, RtpInputCodec]>([
    ['VP8', { kind: 'video', codec: 'VP8', payloadType: 96 }],
    ['H264', { kind: 'video', codec: 'H264', payloadType: 102 }],
    ['opus', { kind: 'audio', codec: 'opus', payloadType: 111 }],
  ])('for %s starts with the loopback session lines and ends with a newline', (_name, codec) => {
    const sdp = rtpInputSdp(50000, codec);
    expect(sdp.split('\n').slice(0, SESSION.length)).toEqual(SESSION);
    expect(sdp.endsWith('\n')).toBe(true);
    expect(sdp).not.toContain('\r');
    expect(sdp).not.toContain('\n\n');
    // exactly one media section, on the given port
    expect(sdp.match(/^m=/gm)).toEqual(['m=']);
    expect(sdp).toMatch(new RegExp(`^m=${codec.kind} 50000 RTP/AVP ${codec.payloadType}$`, 'm'));
  });

  it('adds the fmtp line only for H264', () => {
    expect(rtpInputSdp(1, { kind: 'video', codec: 'VP8', payloadType: 96 })).not.toContain('a=fmtp');
    expect(rtpInputSdp(1, { kind: 'audio', codec: 'opus', payloadType: 111 })).not.toContain('a=fmtp');
  });
});

describe('rtpSdp() for a recording (the composite and the mix)', () => {
  const recorderSdp = (codec: 'VP8' | 'H264'): string =>
    rtpSdp('mcu recording', [
      { kind: 'video', port: 20000, codec, payloadType: codec === 'VP8' ? 96 : 102 },
      { kind: 'audio', port: 20002, codec: 'opus', payloadType: 111 },
    ]);

  it('announces the VP8 composite at 90 kHz and the Opus mix at 48 kHz stereo on their loopback ports', () => {
    expect(recorderSdp('VP8')).toBe(
      [
        'v=0',
        'o=- 0 0 IN IP4 127.0.0.1',
        's=mcu recording',
        'c=IN IP4 127.0.0.1',
        't=0 0',
        'm=video 20000 RTP/AVP 96',
        'a=rtpmap:96 VP8/90000',
        'm=audio 20002 RTP/AVP 111',
        'a=rtpmap:111 opus/48000/2',
        '',
      ].join('\n'),
    );
  });

  it('gives H.264 its packetization mode (RFC 6184)', () => {
    expect(recorderSdp('H264')).toContain('a=rtpmap:102 H264/90000\na=fmtp:102 packetization-mode=1\nm=audio');
  });
});

describe("rtpSdp() for the bot's recorder (the codecs as negotiated)", () => {
  test('describes VP8 video and stereo Opus on loopback ports (RFC 4566)', () => {
    expect(
      rtpSdp('mcu-bot', [
        { kind: 'video', port: 20000, payloadType: 96, codec: 'VP8', clockRate: 90000 },
        { kind: 'audio', port: 20002, payloadType: 111, codec: 'opus', channels: 2, clockRate: 48000 },
      ]),
    ).toBe(
      'v=0\n' +
        'o=- 0 0 IN IP4 127.0.0.1\n' +
        's=mcu-bot\n' +
        'c=IN IP4 127.0.0.1\n' +
        't=0 0\n' +
        'm=video 20000 RTP/AVP 96\n' +
        'a=rtpmap:96 VP8/90000\n' +
        'm=audio 20002 RTP/AVP 111\n' +
        'a=rtpmap:111 opus/48000/2\n',
    );
  });

  test('H.264 carries packetization-mode=1, the mode WebRTC sends', () => {
    expect(rtpSdp('mcu-bot', [{ kind: 'video', port: 30000, payloadType: 102, codec: 'H264', clockRate: 90000 }])).toBe(
      'v=0\no=- 0 0 IN IP4 127.0.0.1\ns=mcu-bot\nc=IN IP4 127.0.0.1\nt=0 0\n' +
        'm=video 30000 RTP/AVP 102\na=rtpmap:102 H264/90000\na=fmtp:102 packetization-mode=1\n',
    );
  });

  test('audio only', () => {
    expect(rtpSdp('mcu-bot', [{ kind: 'audio', port: 30002, payloadType: 109, codec: 'opus', channels: 2, clockRate: 48000 }])).toBe(
      'v=0\no=- 0 0 IN IP4 127.0.0.1\ns=mcu-bot\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 30002 RTP/AVP 109\na=rtpmap:109 opus/48000/2\n',
    );
  });

  test('a negotiated clock rate and channel count are written as given', () => {
    const sdp = rtpSdp('mcu-bot', [{ kind: 'audio', port: 30002, payloadType: 109, codec: 'opus', channels: 1, clockRate: 24000 }]);
    expect(sdp).toContain('a=rtpmap:109 opus/24000/1\n');
  });

  test('needs at least one stream', () => {
    expect(() => rtpSdp('mcu-bot', [])).toThrow(TypeError);
  });
});
