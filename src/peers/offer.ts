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

function directionIn(lines: string[]): Direction | undefined {
  for (const line of lines) {
    const attr = /^a=(sendrecv|sendonly|recvonly|inactive)$/.exec(line.trim());
    if (attr?.[1]) return attr[1] as Direction;
  }
  return undefined;
}

export function parseOffer(sdp: string): OfferedMedia[] {
  const [session = '', ...sections] = sdp.split(/\r?\n(?=m=)/);
  // RFC 8866 §6.7: a session-level direction applies to sections that name none.
  const sessionDirection = directionIn(session.split(/\r?\n/)) ?? 'sendrecv';
  const media: OfferedMedia[] = [];
  for (const section of sections) {
    const lines = section.split(/\r?\n/).map((line) => line.trim());
    const mLine = /^m=(\w+) (\d+) \S+ ?(.*)$/.exec(lines[0] ?? '');
    const kind = mLine?.[1];
    if (kind !== 'audio' && kind !== 'video') continue;
    let direction = directionIn(lines) ?? sessionDirection;
    const mid = lines.map((line) => /^a=mid:(\S+)/.exec(line)?.[1]).find((m) => m !== undefined);
    const names = new Map<string, string>();
    for (const line of lines) {
      const rtpmap = /^a=rtpmap:(\d+) ([\w-]+)\//.exec(line);
      if (rtpmap?.[1] && rtpmap[2]) names.set(rtpmap[1], rtpmap[2]);
    }
    // Preference is the m= line's order of payload types (RFC 3264 §5.1).
    const codecs: string[] = [];
    for (const pt of (mLine?.[3] ?? '').split(' ')) {
      const name = names.get(pt);
      if (name && !codecs.includes(name)) codecs.push(name);
    }
    // Port 0 rejects a section, except a bundle-only one, which rides the bundle (RFC 8843).
    if (mLine?.[2] === '0' && !lines.includes('a=bundle-only')) direction = 'inactive';
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
 * usable. The signaling protocol: exactly two sections, audio first, then video.
 */
export function planOffer(sdp: string): OfferPlan | { error: string } {
  const media = parseOffer(sdp);
  if (media.length === 0) return { error: 'the offer has no audio or video section' };
  if (media.length !== 2 || media[0]?.kind !== 'audio' || media[1]?.kind !== 'video') {
    return { error: 'the offer must have exactly two sections: audio first, then video' };
  }
  const plan: OfferPlan = {};
  for (const m of media) {
    if (m.direction === 'inactive') continue;
    const codec = pickCodec(m);
    if (!codec) {
      return { error: `the ${m.kind} section offers no usable codec (${USABLE[m.kind].join(' or ')}; offered: ${m.codecs.join(', ') || 'none'})` };
    }
    plan[m.kind] = { codec, publishes: sends(m.direction), receives: receives(m.direction) };
  }
  if (!plan.audio && !plan.video) return { error: 'both sections of the offer are inactive' };
  return plan;
}
