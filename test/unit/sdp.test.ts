import { describe, expect, it, test } from 'vitest';
import { rtpInputSdp, type RtpInputCodec } from '../../base/rtp/sdp.ts';

const SESSION = ['v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=mcu', 'c=IN IP4 127.0.0.1', 't=0 0'];

describe('rtpInputSdp()', () => {
  it('rtpInputSdp() describes a VP8 stream on a loopback port with a 90 kHz clock', () => {
    expect(rtpInputSdp(40002, { kind: 'video', codec: 'VP8', payloadType: 96 })).toBe(
      'v=0\n' +
        'o=- 0 0 IN IP4 127.0.0.1\n' +
        's=mcu\n' +
        'c=IN IP4 127.0.0.1\n' +
        't=0 0\n' +
        'm=video 40002 RTP/AVP 96\n' +
        'a=rtpmap:96 VP8/90000\n',
    );
  });

  it('rtpInputSdp() gives H264 its packetization-mode=1 fmtp line', () => {
    expect(rtpInputSdp(40006, { kind: 'video', codec: 'H264', payloadType: 102 })).toBe(
      'v=0\n' +
        'o=- 0 0 IN IP4 127.0.0.1\n' +
        's=mcu\n' +
        'c=IN IP4 127.0.0.1\n' +
        't=0 0\n' +
        'm=video 40006 RTP/AVP 102\n' +
        'a=rtpmap:102 H264/90000\n' +
        'a=fmtp:102 packetization-mode=1\n',
    );
  });

  it('rtpInputSdp() describes Opus as 48 kHz with two channels (RFC 7587)', () => {
    expect(rtpInputSdp(40004, { kind: 'audio', codec: 'opus', payloadType: 111 })).toBe(
      'v=0\n' +
        'o=- 0 0 IN IP4 127.0.0.1\n' +
        's=mcu\n' +
        'c=IN IP4 127.0.0.1\n' +
        't=0 0\n' +
        'm=audio 40004 RTP/AVP 111\n' +
        'a=rtpmap:111 opus/48000/2\n',
    );
  });

  test.each<[string, RtpInputCodec]>([
    ['VP8', { kind: 'video', codec: 'VP8', payloadType: 96 }],
    ['H264', { kind: 'video', codec: 'H264', payloadType: 102 }],
    ['opus', { kind: 'audio', codec: 'opus', payloadType: 111 }],
  ])('rtpInputSdp() for %s starts with the loopback session lines and ends with a newline', (_name, codec) => {
    const sdp = rtpInputSdp(50000, codec);
    expect(sdp.split('\n').slice(0, SESSION.length)).toEqual(SESSION);
    expect(sdp.endsWith('\n')).toBe(true);
    expect(sdp).not.toContain('\r');
    expect(sdp).not.toContain('\n\n');
    // exactly one media section, on the given port
    expect(sdp.match(/^m=/gm)).toEqual(['m=']);
    expect(sdp).toMatch(new RegExp(`^m=${codec.kind} 50000 RTP/AVP ${codec.payloadType}$`, 'm'));
  });

  it('rtpInputSdp() adds the fmtp line only for H264', () => {
    expect(rtpInputSdp(1, { kind: 'video', codec: 'VP8', payloadType: 96 })).not.toContain('a=fmtp');
    expect(rtpInputSdp(1, { kind: 'audio', codec: 'opus', payloadType: 111 })).not.toContain('a=fmtp');
  });
});
