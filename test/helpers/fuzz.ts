/**
 * Malformed and hostile input for the fuzz test: signaling frames and REST requests, from a
 * seeded generator (the same seed gives the same run). Each frame says what the server must do
 * with it: answer it once (`reply`: an error, `joined` or `answer`), close the socket
 * (`close`: a refused token, a frame over the socket's size limit, text that is not UTF-8), or
 * nothing (`none`: a leave).
 */

export type Rng = () => number;

/** mulberry32: small, fast, good enough to pick test cases. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const int = (rng: Rng, min: number, max: number): number => min + Math.floor(rng() * (max - min + 1));

function garbage(rng: Rng, length: number): string {
  const alphabet = '{}[]":,\\ \t\nabcxyz0123456789-_.éü€\u0000\u2028🎥';
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(rng() * alphabet.length)];
  return out;
}

export interface FuzzFrame {
  data: string | Buffer;
  binary?: boolean;
  expect: 'reply' | 'close' | 'none';
  /** What became of the socket's state if it is answered as hoped (a join may be refused). */
  joins?: boolean;
  leaves?: boolean;
  kind: string;
}

export interface FuzzTokens {
  /** Valid join tokens, by room (more rooms than the server allows). */
  valid: { room: string; token: string }[];
  /** Tokens the server must refuse (expired, other key, tampered, other room, no grant, garbage). */
  refused: { room: string; token: string }[];
  /** A real browser offer, and offers that are not. */
  offer: string;
}

const MALFORMED_KINDS = new Set([
  'garbage', 'truncated', 'not an object', 'deep array', 'deep object', 'unknown type', 'bad type', 'bad room', 'bad name',
  'bad token type', 'bad offer', 'bad candidate', 'oversized', 'binary',
]);

/** Frames that never parse or never fit a message: each answered with `bad_request`. */
function malformed(rng: Rng): FuzzFrame {
  const kinds: (() => FuzzFrame)[] = [
    () => ({ data: garbage(rng, int(rng, 0, 300)), expect: 'reply', kind: 'garbage' }),
    () => ({ data: `${JSON.stringify({ type: 'join', room: 'r', name: 'n' }).slice(0, int(rng, 1, 30))}`, expect: 'reply', kind: 'truncated' }),
    () => ({ data: pick(rng, ['null', 'true', '42', '"join"', '[]', '[{"type":"join"}]', '{}', '1e999', '-0']), expect: 'reply', kind: 'not an object' }),
    () => ({ data: '['.repeat(int(rng, 1000, 10000)) + ']'.repeat(int(rng, 0, 1000)), expect: 'reply', kind: 'deep array' }),
    () => ({ data: `${'{"a":'.repeat(int(rng, 100, 2000))}1${'}'.repeat(int(rng, 0, 2000))}`, expect: 'reply', kind: 'deep object' }),
    () => ({ data: JSON.stringify({ type: pick(rng, ['JOIN', 'hello', '', 'answer', 'participants', 'speaker', 'error', '__proto__', 'constructor']) }), expect: 'reply', kind: 'unknown type' }),
    () => ({ data: JSON.stringify({ type: pick(rng, [1, null, [], {}, true]) }), expect: 'reply', kind: 'bad type' }),
    () => ({
      data: JSON.stringify({ type: 'join', room: pick(rng, ['', 'a b', '../x', 'r'.repeat(65), 'ümlaut', 5, null]), name: 'x' }),
      expect: 'reply',
      kind: 'bad room',
    }),
    () => ({ data: JSON.stringify({ type: 'join', room: 'ok', name: pick(rng, ['', 'n'.repeat(65), 7, null, {}]) }), expect: 'reply', kind: 'bad name' }),
    () => ({ data: JSON.stringify({ type: 'join', room: 'ok', name: 'x', token: pick(rng, [5, null, {}, [], 't'.repeat(4097)]) }), expect: 'reply', kind: 'bad token type' }),
    () => ({ data: JSON.stringify({ type: 'offer', sdp: pick(rng, ['', 42, null, ['v=0']]) }), expect: 'reply', kind: 'bad offer' }),
    () => ({ data: JSON.stringify({ type: 'candidate', candidate: pick(rng, ['a=candidate', 5, { candidate: 5 }, { sdpMLineIndex: -1 }, { sdpMid: 'x'.repeat(65) }]) }), expect: 'reply', kind: 'bad candidate' }),
    // Over the protocol's 64 KiB (under the socket's limit): rarer, they are what costs most to send.
    () =>
      rng() < 0.05
        ? { data: JSON.stringify({ type: 'offer', sdp: 'v'.repeat(int(rng, 65 * 1024, 100 * 1024)) }), expect: 'reply', kind: 'oversized' }
        : { data: garbage(rng, int(rng, 0, 300)), expect: 'reply', kind: 'garbage' },
    () => ({ data: Buffer.from(garbage(rng, int(rng, 1, 100))), binary: true, expect: 'reply', kind: 'binary' }),
  ];
  return pick(rng, kinds)();
}

/** One frame for a socket that has not joined (or `joined` one), chosen among malformed, refused and valid-but-hostile input. */
export function fuzzFrame(rng: Rng, joined: boolean, tokens: FuzzTokens, allowValidOffer: () => boolean): FuzzFrame {
  const roll = rng();
  if (roll < 0.85) return malformed(rng);
  if (!joined) {
    if (roll < 0.89) {
      return { data: JSON.stringify({ type: pick(rng, ['offer', 'candidate', 'leave']), sdp: 'v=0', candidate: { candidate: 'x' } }), expect: 'reply', kind: 'before join' };
    }
    if (roll < 0.92) {
      const bad = pick(rng, tokens.refused);
      const token = rng() < 0.2 ? undefined : bad.token;
      return { data: JSON.stringify({ type: 'join', room: bad.room, name: 'intruder', ...(token ? { token } : {}) }), expect: 'close', kind: 'refused token' };
    }
    if (roll < 0.9205) return { data: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), expect: 'close', kind: 'invalid UTF-8' };
    if (roll < 0.921) return { data: 'x'.repeat(300 * 1024), expect: 'close', kind: 'over the socket limit' };
    const { room, token } = pick(rng, tokens.valid);
    // Extra fields are ignored by the schema, however hostile their names.
    return { data: `{"type":"join","room":"${room}","name":"fuzz","token":"${token}","__proto__":{"admin":true},"constructor":{}}`, expect: 'reply', joins: true, kind: 'valid join' };
  }
  if (roll < 0.88) return { data: JSON.stringify({ type: 'join', room: 'again', name: 'x' }), expect: 'reply', kind: 'second join' };
  if (roll < 0.94) {
    const sdp = pick(rng, ['v=0\r\n', 'this is not SDP', `${tokens.offer.slice(0, int(rng, 10, tokens.offer.length - 1))}`, tokens.offer.replace(/VP8/g, 'VP9').replace(/opus/g, 'PCMU').replace(/H264/g, 'AV1')]);
    return { data: JSON.stringify({ type: 'offer', sdp }), expect: 'reply', kind: 'unusable offer' };
  }
  if (roll < 0.97 && allowValidOffer()) return { data: JSON.stringify({ type: 'offer', sdp: tokens.offer }), expect: 'reply', kind: 'valid offer' };
  return { data: JSON.stringify({ type: 'leave' }), expect: 'none', leaves: true, kind: 'leave' };
}

/** Whether a frame may change what the socket is (joined, closed, with a peer): a batch of frames ends with one. */
export const changesState = (frame: FuzzFrame): boolean => !MALFORMED_KINDS.has(frame.kind);

/** Replies a frame must get before anything else happens to its socket: a refused token is answered, then the socket closed; a frame the socket itself refuses (not UTF-8, too big) closes it unanswered. */
export const answersExpected = (frame: FuzzFrame): number => (frame.expect === 'reply' || frame.kind === 'refused token' ? 1 : 0);

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  kind: string;
}

/** A hostile REST request: bad paths, methods, bodies and tokens; never one that creates or records anything. */
export function fuzzRequest(rng: Rng, authorizations: readonly (string | undefined)[]): FuzzRequest {
  const method = pick(rng, ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']);
  const room = pick(rng, ['f1', 'nowhere', '..', '%2e%2e', 'a%00b', '%E0%A4%A', 'r'.repeat(65), "'; DROP TABLE rooms;--", '__proto__', 'constructor']);
  const path = pick(rng, [
    '/api/rooms',
    `/api/rooms/${room}`,
    `/api/rooms/${room}/recording`,
    `/api/rooms/${room}/participants/${pick(rng, ['x', '..%2F..%2Fetc%2Fpasswd', '%ff'])}`,
    '/api/recordings',
    '/metrics',
    '/api',
    `/api/${garbage(rng, 5).replace(/[^a-z0-9]/g, 'z')}`,
    `/api/rooms?${'q=1&'.repeat(int(rng, 1, 200))}`,
    `/${'a/'.repeat(int(rng, 1, 3000))}`,
    '/../../etc/passwd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/socket',
  ]);
  const authorization = pick(rng, authorizations);
  const bodyKind = rng();
  // POST bodies never make a valid room: each carries a field the schema refuses.
  const body =
    method === 'GET' || method === 'HEAD' || method === 'OPTIONS'
      ? undefined
      : bodyKind < 0.3
        ? garbage(rng, int(rng, 0, 200))
        : bodyKind < 0.6
          ? JSON.stringify({ name: pick(rng, ['x', 5, null]), bogus: true, layout: pick(rng, ['grid', 'mosaic', 7]) })
          : bodyKind < 0.7
            ? JSON.stringify({ pad: 'p'.repeat(int(rng, 17 * 1024, 64 * 1024)), bogus: 1 })
            : undefined;
  const headers: Record<string, string> = {
    ...(authorization !== undefined ? { authorization } : {}),
    ...(body !== undefined ? { 'content-type': pick(rng, ['application/json', 'text/plain', 'application/json; charset=utf-16', 'multipart/form-data']) } : {}),
    ...(rng() < 0.05 ? { 'x-huge': 'h'.repeat(int(rng, 8 * 1024, 20 * 1024)) } : {}),
  };
  return { method, path, headers, ...(body !== undefined ? { body } : {}), kind: `${method} ${path.split('?')[0]!.slice(0, 40)}` };
}
