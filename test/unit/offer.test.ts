import { readFileSync } from 'node:fs';
import { MediaStreamTrack, RTCPeerConnection } from 'werift';
import { afterAll, beforeAll, describe, expect, it, test } from 'vitest';
import {
  parseOffer,
  pickCodec,
  planOffer,
  receives,
  sends,
  type Direction,
  type OfferedMedia,
  type OfferPlan,
} from '../../src/peers/offer.ts';

// Offers as browsers write them (test/fixtures/README.md) and as werift writes them. The
// signaling protocol's flow, step 3: exactly two transceivers, audio first, then video;
// publishers, viewers and one-sided publishers are all valid. Codecs: Opus audio, VP8 or H.264.

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
const CHROME = fixture('chrome-offer.sdp');
const FIREFOX = fixture('firefox-offer.sdp');
const FIREFOX_MAX_BUNDLE = fixture('firefox-offer-max-bundle.sdp');

/** Offers werift makes for a publisher (two sendrecv transceivers) and a viewer (two recvonly). */
const werift = { publisher: '', viewer: '' };
const peers: RTCPeerConnection[] = [];

beforeAll(async () => {
  const publisher = new RTCPeerConnection();
  publisher.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendrecv' });
  publisher.addTransceiver(new MediaStreamTrack({ kind: 'video' }), { direction: 'sendrecv' });
  const viewer = new RTCPeerConnection();
  viewer.addTransceiver('audio', { direction: 'recvonly' });
  viewer.addTransceiver('video', { direction: 'recvonly' });
  peers.push(publisher, viewer);
  werift.publisher = (await publisher.createOffer()).sdp;
  werift.viewer = (await viewer.createOffer()).sdp;
});

afterAll(async () => {
  await Promise.all(peers.map((pc) => pc.close()));
});

// --- Editing an offer the way a client with other settings would have written it ---------------

/** Applies `edit` to each media section (index 0 = the first m= line), keeping the session part. */
function editSections(sdp: string, edit: (section: string, index: number) => string): string {
  const [session = '', ...media] = sdp.split(/\r\n(?=m=)/);
  return [session, ...media.map(edit)].join('\r\n');
}

/** Sets the direction attribute of each media section, in order. */
function withDirections(sdp: string, ...directions: Direction[]): string {
  return editSections(sdp, (section, i) =>
    section.replace(/^a=(sendrecv|sendonly|recvonly|inactive)(?=\r?$)/m, `a=${directions[i] ?? 'sendrecv'}`),
  );
}

/** Sets the port of the media section at `index` (0 rejects it, RFC 3264 §6). */
function withPort(sdp: string, index: number, port: number): string {
  return editSections(sdp, (section, i) => (i === index ? section.replace(/^m=(\w+) \d+ /, `m=$1 ${port} `) : section));
}

/**
 * Keeps only the named codecs in the section at `index`, in `names` order (the m= line's order
 * among payload types of one codec), each followed by its rtx (RFC 4588 `apt=`), as browsers
 * list them. Every other payload type loses its m= entry and its rtpmap, fmtp and rtcp-fb lines.
 */
function withCodecs(sdp: string, index: number, names: string[]): string {
  return editSections(sdp, (section, i) => {
    if (i !== index) return section;
    const lines = section.split('\r\n');
    const order = /^m=\w+ \d+ [\w/]+ ([\d ]+)$/.exec(lines[0] ?? '')?.[1]?.split(' ') ?? [];
    const codecOf = new Map<string, string>();
    const rtxOf = new Map<string, string>();
    for (const line of lines) {
      const rtpmap = /^a=rtpmap:(\d+) ([\w-]+)\//.exec(line);
      if (rtpmap?.[1] && rtpmap[2]) codecOf.set(rtpmap[1], rtpmap[2]);
      const apt = /^a=fmtp:(\d+) apt=(\d+)$/.exec(line);
      if (apt?.[1] && apt[2]) rtxOf.set(apt[2], apt[1]);
    }
    const kept = names.flatMap((name) =>
      order.filter((pt) => codecOf.get(pt) === name).flatMap((pt) => [pt, ...(rtxOf.has(pt) ? [rtxOf.get(pt)!] : [])]),
    );
    return lines
      .filter((line) => {
        const pt = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+) /.exec(line)?.[1];
        return pt === undefined || kept.includes(pt);
      })
      .map((line, n) => (n === 0 ? line.replace(/^(m=\w+ \d+ [\w/]+) [\d ]+$/, `$1 ${kept.join(' ')}`) : line))
      .join('\r\n');
  });
}

/** Swaps the two media sections, putting video first. */
function videoFirst(sdp: string): string {
  const [session = '', audio = '', video = ''] = sdp.split(/\r\n(?=m=)/);
  return [session, video.replace(/\r\n$/, ''), audio].join('\r\n');
}

const SESSION_ONLY = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE\r\n';
const DATA_CHANNEL =
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n';

const PUBLISHER: OfferPlan = {
  audio: { codec: 'opus', publishes: true, receives: true },
  video: { codec: 'VP8', publishes: true, receives: true },
};
const VIEWER: OfferPlan = {
  audio: { codec: 'opus', publishes: false, receives: true },
  video: { codec: 'VP8', publishes: false, receives: true },
};

describe('parseOffer()', () => {
  it('parseOffer() reads a Chrome offer: two sendrecv sections with every codec in m= line order', () => {
    expect(parseOffer(CHROME)).toEqual<OfferedMedia[]>([
      {
        kind: 'audio',
        mid: '0',
        direction: 'sendrecv',
        codecs: ['opus', 'red', 'G722', 'PCMU', 'PCMA', 'CN', 'telephone-event'],
      },
      { kind: 'video', mid: '1', direction: 'sendrecv', codecs: ['VP8', 'rtx', 'H264', 'AV1', 'VP9', 'red', 'ulpfec'] },
    ]);
  });

  it('parseOffer() reads a Firefox offer, whose attributes are grouped by kind', () => {
    expect(parseOffer(FIREFOX)).toEqual<OfferedMedia[]>([
      { kind: 'audio', mid: '0', direction: 'sendrecv', codecs: ['opus', 'G722', 'PCMU', 'PCMA', 'telephone-event'] },
      { kind: 'video', mid: '1', direction: 'sendrecv', codecs: ['VP8', 'rtx', 'VP9', 'H264', 'AV1', 'ulpfec', 'red'] },
    ]);
  });

  it("parseOffer() reads werift's publisher offer, with its upper-case OPUS", () => {
    expect(parseOffer(werift.publisher)).toEqual<OfferedMedia[]>([
      { kind: 'audio', mid: '0', direction: 'sendrecv', codecs: ['OPUS', 'PCMU'] },
      { kind: 'video', mid: '1', direction: 'sendrecv', codecs: ['VP8'] },
    ]);
  });

  it("parseOffer() reads werift's viewer offer as two recvonly sections", () => {
    expect(parseOffer(werift.viewer).map((m) => [m.kind, m.direction])).toEqual([
      ['audio', 'recvonly'],
      ['video', 'recvonly'],
    ]);
  });

  it('parseOffer() reads an offer with bare LF line endings as the same offer', () => {
    expect(parseOffer(CHROME.replaceAll('\r\n', '\n'))).toEqual(parseOffer(CHROME));
    expect(parseOffer(FIREFOX.replaceAll('\r\n', '\n'))).toEqual(parseOffer(FIREFOX));
  });

  test.each<Direction>(['sendrecv', 'sendonly', 'recvonly', 'inactive'])('parseOffer() reads a=%s', (direction) => {
    expect(parseOffer(withDirections(CHROME, direction, direction)).map((m) => m.direction)).toEqual([direction, direction]);
  });

  it('parseOffer() takes a section without a direction attribute as sendrecv (RFC 8866 §6.7)', () => {
    const sdp = editSections(CHROME, (section) => section.replace(/^a=sendrecv\r\n/m, ''));
    expect(sdp).not.toContain('a=sendrecv');
    expect(parseOffer(sdp).map((m) => m.direction)).toEqual(['sendrecv', 'sendrecv']);
  });

  it('parseOffer() takes a section with port 0 as inactive, whatever its direction says', () => {
    expect(parseOffer(withPort(CHROME, 1, 0)).map((m) => m.direction)).toEqual(['sendrecv', 'inactive']);
  });

  it('parseOffer() skips a data channel section', () => {
    expect(parseOffer(CHROME + DATA_CHANNEL).map((m) => m.kind)).toEqual(['audio', 'video']);
  });

  it('parseOffer() finds no media in an offer with only session lines, or in an empty string', () => {
    expect(parseOffer(SESSION_ONLY)).toEqual([]);
    expect(parseOffer('')).toEqual([]);
  });

  // RFC 3264 §5.1: preference is the m= line's order, not the order of the a=rtpmap lines.
  it('parseOffer() lists codecs in the m= line order even when the rtpmap lines are in another order', () => {
    const sdp = [
      'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:0', 'a=sendrecv', 'a=rtpmap:111 opus/48000/2',
      'm=video 9 UDP/TLS/RTP/SAVPF 102 96', 'a=mid:1', 'a=sendrecv', 'a=rtpmap:96 VP8/90000', 'a=rtpmap:102 H264/90000', '',
    ].join('\r\n');
    expect(parseOffer(sdp)[1]?.codecs).toEqual(['H264', 'VP8']);
  });

  // RFC 8866 §6.7: a session-level direction applies to sections that name none.
  it('parseOffer() applies a session-level direction to sections without their own (RFC 8866 §6.7)', () => {
    const media = editSections(CHROME, (section) => section.replace(/^a=sendrecv\r\n/m, ''));
    const sdp = media.replace('t=0 0\r\n', 't=0 0\r\na=recvonly\r\n');
    expect(parseOffer(sdp).map((m) => m.direction)).toEqual(['recvonly', 'recvonly']);
  });
});

describe('planOffer() accepts what the signaling protocol allows', () => {
  test.each<[string, () => string, OfferPlan]>([
    ['a Chrome publisher', () => CHROME, PUBLISHER],
    ['a Firefox publisher', () => FIREFOX, PUBLISHER],
    ['a werift publisher (OPUS in upper case)', () => werift.publisher, PUBLISHER],
    ['a werift viewer', () => werift.viewer, VIEWER],
    ['a Chrome viewer', () => withDirections(CHROME, 'recvonly', 'recvonly'), VIEWER],
    ['a Firefox viewer', () => withDirections(FIREFOX, 'recvonly', 'recvonly'), VIEWER],
    [
      'an audio-only publisher (sendrecv audio, recvonly video)',
      () => withDirections(CHROME, 'sendrecv', 'recvonly'),
      { audio: { codec: 'opus', publishes: true, receives: true }, video: { codec: 'VP8', publishes: false, receives: true } },
    ],
    [
      'a video-only publisher (recvonly audio, sendrecv video)',
      () => withDirections(FIREFOX, 'recvonly', 'sendrecv'),
      { audio: { codec: 'opus', publishes: false, receives: true }, video: { codec: 'VP8', publishes: true, receives: true } },
    ],
    [
      'a sendonly publisher, which receives nothing',
      () => withDirections(CHROME, 'sendonly', 'sendonly'),
      { audio: { codec: 'opus', publishes: true, receives: false }, video: { codec: 'VP8', publishes: true, receives: false } },
    ],
    [
      'a client without VP8, with H.264',
      () => withCodecs(CHROME, 1, ['H264']),
      { ...PUBLISHER, video: { codec: 'H264', publishes: true, receives: true } },
    ],
    ['a client preferring H.264 to VP8 (the composite is VP8)', () => withCodecs(FIREFOX, 1, ['H264', 'VP9', 'VP8']), PUBLISHER],
    ['a client offering only opus for audio', () => withCodecs(FIREFOX, 0, ['opus']), PUBLISHER],
    ['a publisher with a data channel as well', () => CHROME + DATA_CHANNEL, PUBLISHER],
    ['a video section with port 0, as inactive', () => withPort(CHROME, 1, 0), { audio: PUBLISHER.audio! }],
    ['an audio section with port 0, as inactive', () => withPort(FIREFOX, 0, 0), { video: PUBLISHER.video! }],
    ['a=inactive video', () => withDirections(CHROME, 'recvonly', 'inactive'), { audio: VIEWER.audio! }],
  ])('planOffer() plans %s', (_name, sdp, expected) => {
    expect(planOffer(sdp())).toEqual(expected);
  });

  it('the edited offers still carry the session and every section attribute', () => {
    const edited = withCodecs(CHROME, 1, ['H264']);
    expect(edited).toContain('a=group:BUNDLE 0 1\r\n');
    expect(edited).toMatch(/^m=video 9 UDP\/TLS\/RTP\/SAVPF 102 103 104 105 106 107 108 109 127 125 39 40 112 113\r$/m);
    expect(edited).not.toContain('VP8');
    expect(edited).toContain('a=ssrc-group:FID 1740235870 3457091121');
    expect(parseOffer(videoFirst(CHROME)).map((m) => m.kind)).toEqual(['video', 'audio']);
  });

  it('the max-bundle Firefox offer differs from the other only by its bundled video section', () => {
    expect(FIREFOX_MAX_BUNDLE.replace('m=video 0 ', 'm=video 9 ').replace('a=bundle-only\r\n', '')).toBe(FIREFOX);
    expect(parseOffer(FIREFOX_MAX_BUNDLE).map((m) => m.codecs)).toEqual(parseOffer(FIREFOX).map((m) => m.codecs));
  });

  // RFC 8843: Firefox max-bundle offers give bundled sections port 0 and a=bundle-only; they are not rejected.
  it('planOffer() takes a port-0 section marked a=bundle-only as bundled, not inactive (RFC 8843)', () => {
    expect(planOffer(FIREFOX_MAX_BUNDLE)).toEqual(PUBLISHER);
  });
});

describe('planOffer() refuses offers with nothing usable, and names what was wrong', () => {
  test.each<[string, () => string, string]>([
    [
      'a video section with only VP9',
      () => withCodecs(CHROME, 1, ['VP9']),
      'the video section offers no usable codec (VP8 or H264; offered: VP9, rtx)',
    ],
    ['a video section with only AV1', () => withCodecs(FIREFOX, 1, ['AV1']), 'the video section offers no usable codec (VP8 or H264; offered: AV1, rtx)'],
    [
      'an audio section without opus',
      () => withCodecs(CHROME, 0, ['G722', 'PCMU', 'PCMA']),
      'the audio section offers no usable codec (opus; offered: G722, PCMU, PCMA)',
    ],
    ['video first, then audio', () => videoFirst(CHROME), 'the offer must have exactly two sections: audio first, then video'],
    [
      'three sections (a second video)',
      () => CHROME + CHROME.slice(CHROME.indexOf('m=video')).replace('a=mid:1', 'a=mid:2'),
      'the offer must have exactly two sections: audio first, then video',
    ],
    [
      'an audio section alone',
      () => CHROME.slice(0, CHROME.indexOf('m=video')),
      'the offer must have exactly two sections: audio first, then video',
    ],
    [
      'two audio sections',
      () => {
        const audio = CHROME.slice(CHROME.indexOf('m=audio'), CHROME.indexOf('m=video'));
        return CHROME.slice(0, CHROME.indexOf('m=video')) + audio.replace('a=mid:0', 'a=mid:1');
      },
      'the offer must have exactly two sections: audio first, then video',
    ],
    ['no media section', () => SESSION_ONLY, 'the offer has no audio or video section'],
    ['only a data channel', () => SESSION_ONLY + DATA_CHANNEL, 'the offer has no audio or video section'],
    ['an empty string', () => '', 'the offer has no audio or video section'],
    ['both sections inactive', () => withDirections(CHROME, 'inactive', 'inactive'), 'both sections of the offer are inactive'],
    ['both sections with port 0', () => withPort(withPort(FIREFOX, 0, 0), 1, 0), 'both sections of the offer are inactive'],
  ])('planOffer() refuses %s', (_name, sdp, error) => {
    expect(planOffer(sdp())).toEqual({ error });
  });
});

describe('pickCodec()', () => {
  test.each<[OfferedMedia['kind'], string[], string | undefined]>([
    ['video', ['VP8', 'rtx', 'H264'], 'VP8'],
    ['video', ['H264', 'rtx', 'VP8'], 'VP8'], // the composite is VP8: VP8 wins whatever the order
    ['video', ['VP9', 'AV1', 'H264'], 'H264'],
    ['video', ['vp8'], 'VP8'], // codec names are case-insensitive (RFC 4855 §3)
    ['video', ['h264'], 'H264'],
    ['video', ['VP9', 'AV1', 'rtx', 'red', 'ulpfec'], undefined],
    ['video', ['opus'], undefined], // an audio codec in a video section
    ['video', [], undefined],
    ['audio', ['opus', 'red', 'G722'], 'opus'],
    ['audio', ['OPUS', 'PCMU'], 'opus'], // werift writes OPUS
    ['audio', ['PCMU', 'PCMA', 'G722', 'telephone-event'], undefined],
    ['audio', ['VP8'], undefined],
    ['audio', [], undefined],
  ])('pickCodec() picks, for %s offering %j, %s', (kind, codecs, expected) => {
    expect(pickCodec({ kind, mid: '0', direction: 'sendrecv', codecs })).toBe(expected);
  });
});

describe('sends() and receives()', () => {
  test.each<[Direction, boolean, boolean]>([
    // [direction in the client's offer, the client sends, the client receives]
    ['sendrecv', true, true],
    ['sendonly', true, false],
    ['recvonly', false, true],
    ['inactive', false, false],
  ])('a=%s: sends() is %s, receives() is %s', (direction, send, receive) => {
    expect(sends(direction)).toBe(send);
    expect(receives(direction)).toBe(receive);
  });
});
