/** What a client's SDP offer asks for, read before werift sees it (RFC 8866 media sections). */

export type MediaKind = 'audio' | 'video';
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface OfferedMedia {
  kind: MediaKind;
  mid: string | undefined;
  direction: Direction;
  /** Codec names in the client's order of preference, e.g. ['VP8', 'H264', 'VP9']. */
  codecs: string[];
}

const USABLE: Record<MediaKind, readonly string[]> = { audio: ['opus'], video: ['VP8', 'H264'] };

export function parseOffer(sdp: string): OfferedMedia[] {
  const sections = sdp.split(/\r?\n(?=m=)/).slice(1);
  const media: OfferedMedia[] = [];
  for (const section of sections) {
    const lines = section.split(/\r?\n/);
    const kind = /^m=(\w+)/.exec(lines[0] ?? '')?.[1];
    if (kind !== 'audio' && kind !== 'video') continue;
    const port = /^m=\w+ (\d+)/.exec(lines[0] ?? '')?.[1];
    let direction: Direction = 'sendrecv';
    let mid: string | undefined;
    const codecs: string[] = [];
    for (const line of lines) {
      const attr = /^a=(sendrecv|sendonly|recvonly|inactive)$/.exec(line.trim());
      if (attr?.[1]) direction = attr[1] as Direction;
      const midMatch = /^a=mid:(\S+)/.exec(line);
      if (midMatch?.[1]) mid = midMatch[1];
      const rtpmap = /^a=rtpmap:\d+ ([\w-]+)\//.exec(line);
      if (rtpmap?.[1] && !codecs.includes(rtpmap[1])) codecs.push(rtpmap[1]);
    }
    if (port === '0') direction = 'inactive';
    media.push({ kind, mid, direction, codecs });
  }
  return media;
}

export const sends = (d: Direction): boolean => d === 'sendrecv' || d === 'sendonly';
export const receives = (d: Direction): boolean => d === 'sendrecv' || d === 'recvonly';

/** The codec the server picks for a section (VP8 before H.264: the composite is VP8), or undefined. */
export function pickCodec(media: OfferedMedia): string | undefined {
  const usable = USABLE[media.kind];
  const found = usable.find((name) => media.codecs.some((c) => c.toLowerCase() === name.toLowerCase()));
  return found;
}

export interface OfferPlan {
  audio?: { codec: string; publishes: boolean; receives: boolean };
  video?: { codec: string; publishes: boolean; receives: boolean };
}

/**
 * What the server will do with an offer, or an error message when the offer holds nothing
 * usable. PROTOCOL.md: exactly two sections, audio first, then video.
 */
export function planOffer(sdp: string): OfferPlan | { error: string } {
  const media = parseOffer(sdp);
  if (media.length === 0) return { error: 'the offer has no audio or video section' };
  if (media.length !== 2 || media[0]?.kind !== 'audio' || media[1]?.kind !== 'video') {
    return { error: 'the offer must have exactly two sections: audio first, then video' };
  }
  const plan: OfferPlan = {};
  for (const m of media) {
    const codec = pickCodec(m);
    if (!codec) {
      return { error: `the ${m.kind} section offers no usable codec (${USABLE[m.kind].join(' or ')}; offered: ${m.codecs.join(', ') || 'none'})` };
    }
    if (m.direction === 'inactive') continue;
    plan[m.kind] = { codec, publishes: sends(m.direction), receives: receives(m.direction) };
  }
  if (!plan.audio && !plan.video) return { error: 'both sections of the offer are inactive' };
  return plan;
}
