import { describe, expect, it, test } from 'vitest';
import { MAX_FRAME_BYTES, parseClientFrame, type ClientMessage } from '../../src/signaling/messages.ts';
import { seededRng } from '../helpers/fuzz.ts';

// The signaling protocol's messages, client to server: join, offer, candidate, leave. Every
// other frame gets an `error` reply whose message says what was wrong; parseClientFrame() never
// throws.

const ROOM_64 = 'r'.repeat(64);
const NAME_64 = 'n'.repeat(64);
const SDP = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';
const CANDIDATE = {
  candidate: 'candidate:842163049 1 udp 1677729535 203.0.113.7 50342 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag Zx4q network-cost 999',
  sdpMid: '0',
  sdpMLineIndex: 0,
  usernameFragment: 'Zx4q',
};

/** Unwraps a successful parse, failing the test with the error message otherwise. */
function parsed(frame: string | Buffer): ClientMessage {
  const result = parseClientFrame(frame);
  if (!result.ok) throw new Error(`expected a message, got the error: ${result.message}`);
  return result.message;
}

/** Unwraps a failed parse. */
function refused(frame: string | Buffer): string {
  const result = parseClientFrame(frame);
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result.message)}`);
  return result.message;
}

describe('parseClientFrame() accepts the messages of the signaling protocol', () => {
  test.each<[string, unknown, ClientMessage]>([
    ['join without a token', { type: 'join', room: 'lobby', name: 'Ada' }, { type: 'join', room: 'lobby', name: 'Ada' }],
    [
      'join with a token',
      { type: 'join', room: 'lobby', name: 'Ada', token: 's3cr3t' },
      { type: 'join', room: 'lobby', name: 'Ada', token: 's3cr3t' },
    ],
    ['join to a 64-character room', { type: 'join', room: ROOM_64, name: 'Ada' }, { type: 'join', room: ROOM_64, name: 'Ada' }],
    [
      'join to a room using every allowed character class',
      { type: 'join', room: 'Az09_-', name: 'Ada' },
      { type: 'join', room: 'Az09_-', name: 'Ada' },
    ],
    ['join with a 1-character room and name', { type: 'join', room: 'a', name: 'b' }, { type: 'join', room: 'a', name: 'b' }],
    ['join with a 64-character name', { type: 'join', room: 'lobby', name: NAME_64 }, { type: 'join', room: 'lobby', name: NAME_64 }],
    [
      'join with spaces and unicode in the display name',
      { type: 'join', room: 'lobby', name: 'Zoë Ångström 李' },
      { type: 'join', room: 'lobby', name: 'Zoë Ångström 李' },
    ],
    ['offer', { type: 'offer', sdp: SDP }, { type: 'offer', sdp: SDP }],
    ['candidate with an object', { type: 'candidate', candidate: CANDIDATE }, { type: 'candidate', candidate: CANDIDATE }],
    [
      'candidate with only the candidate line',
      { type: 'candidate', candidate: { candidate: CANDIDATE.candidate } },
      { type: 'candidate', candidate: { candidate: CANDIDATE.candidate } },
    ],
    [
      'candidate with null mid and index (as browsers send them)',
      { type: 'candidate', candidate: { candidate: CANDIDATE.candidate, sdpMid: null, sdpMLineIndex: null } },
      { type: 'candidate', candidate: { candidate: CANDIDATE.candidate, sdpMid: null, sdpMLineIndex: null } },
    ],
    [
      'candidate with an empty candidate line (end of a generation)',
      { type: 'candidate', candidate: { candidate: '', sdpMid: '0', sdpMLineIndex: 0 } },
      { type: 'candidate', candidate: { candidate: '', sdpMid: '0', sdpMLineIndex: 0 } },
    ],
    ['candidate with null (end of candidates)', { type: 'candidate', candidate: null }, { type: 'candidate', candidate: null }],
    ['leave', { type: 'leave' }, { type: 'leave' }],
    // The protocol lets clients add fields: a newer client's extra fields are not an error.
    ['leave with an extra field', { type: 'leave', reason: 'bye' }, { type: 'leave' }],
    [
      'join with an extra field',
      { type: 'join', room: 'lobby', name: 'Ada', avatar: 'https://example.com/a.png' },
      { type: 'join', room: 'lobby', name: 'Ada' },
    ],
  ])('parseClientFrame() accepts %s', (_name, frame, expected) => {
    expect(parsed(JSON.stringify(frame))).toEqual(expected);
  });

  it('parseClientFrame() reads a Buffer as UTF-8 like a string', () => {
    const text = JSON.stringify({ type: 'join', room: 'lobby', name: 'Zoë' });
    expect(parsed(Buffer.from(text, 'utf8'))).toEqual({ type: 'join', room: 'lobby', name: 'Zoë' });
  });

  it('parseClientFrame() accepts a frame of exactly 64 KiB', () => {
    const frame = JSON.stringify({ type: 'leave' }).padEnd(MAX_FRAME_BYTES, ' ');
    expect(Buffer.byteLength(frame)).toBe(64 * 1024);
    expect(parsed(frame)).toEqual({ type: 'leave' });
    expect(parsed(Buffer.from(frame))).toEqual({ type: 'leave' });
  });
});

describe('parseClientFrame() refuses anything else, and says why', () => {
  test.each<[string, string, string]>([
    ['not JSON', 'hello', 'frame is not JSON'],
    ['an empty frame', '', 'frame is not JSON'],
    ['truncated JSON', '{"type":"join","room":"lob', 'frame is not JSON'],
    ['JSON with a trailing comma', '{"type":"leave",}', 'frame is not JSON'],
    ['a JSON array', '[{"type":"leave"}]', 'frame must be a JSON object'],
    ['a JSON number', '42', 'frame must be a JSON object'],
    ['a JSON string', '"leave"', 'frame must be a JSON object'],
    ['JSON null', 'null', 'frame must be a JSON object'],
    ['JSON true', 'true', 'frame must be a JSON object'],
    ['an object with no type', '{"room":"lobby","name":"Ada"}', 'frame has no string field "type"'],
    ['an empty object', '{}', 'frame has no string field "type"'],
    ['a numeric type', '{"type":3}', 'frame has no string field "type"'],
    ['a null type', '{"type":null}', 'frame has no string field "type"'],
    ['an array type', '{"type":["join"]}', 'frame has no string field "type"'],
    ['an unknown type', '{"type":"dance"}', 'unknown message type "dance"'],
    ['a type in the wrong case', '{"type":"JOIN","room":"lobby","name":"Ada"}', 'unknown message type "JOIN"'],
    ['a server-to-client type', '{"type":"answer","sdp":"v=0"}', 'unknown message type "answer"'],
    ['a type named after an Object property', '{"type":"__proto__"}', 'unknown message type "__proto__"'],
    ['an empty type', '{"type":""}', 'unknown message type ""'],
    ['join with an empty room', '{"type":"join","room":"","name":"Ada"}', 'bad join message: room: room must be 1-64 of A-Z a-z 0-9 _ -'],
    ['join with a 65-character room', `{"type":"join","room":"${'r'.repeat(65)}","name":"Ada"}`, 'bad join message: room: room must be 1-64'],
    ['join with spaces in the room', '{"type":"join","room":"my room","name":"Ada"}', 'bad join message: room: room must be 1-64'],
    ['join with a unicode room', '{"type":"join","room":"café","name":"Ada"}', 'bad join message: room: room must be 1-64'],
    ['join with a Cyrillic room', '{"type":"join","room":"комната","name":"Ada"}', 'bad join message: room: room must be 1-64'],
    ['join with a slash in the room', '{"type":"join","room":"../etc","name":"Ada"}', 'bad join message: room: room must be 1-64'],
    ['join with a trailing newline in the room', '{"type":"join","room":"lobby\\n","name":"Ada"}', 'bad join message: room: room must be 1-64'],
    ['join with a numeric room', '{"type":"join","room":42,"name":"Ada"}', 'bad join message: room: '],
    ['join without a room', '{"type":"join","name":"Ada"}', 'bad join message: room: '],
    ['join with an empty name', '{"type":"join","room":"lobby","name":""}', 'bad join message: name: name must not be empty'],
    [
      'join with a 65-character name',
      `{"type":"join","room":"lobby","name":"${'n'.repeat(65)}"}`,
      'bad join message: name: name must be at most 64 characters',
    ],
    ['join without a name', '{"type":"join","room":"lobby"}', 'bad join message: name: '],
    ['join with a numeric token', '{"type":"join","room":"lobby","name":"Ada","token":1}', 'bad join message: token: '],
    ['offer without sdp', '{"type":"offer"}', 'bad offer message: sdp: '],
    ['offer with an empty sdp', '{"type":"offer","sdp":""}', 'bad offer message: sdp: '],
    ['offer with an object sdp', '{"type":"offer","sdp":{"type":"offer","sdp":"v=0"}}', 'bad offer message: sdp: '],
    ['candidate without a candidate', '{"type":"candidate"}', 'bad candidate message: candidate: '],
    ['candidate as a bare string', `{"type":"candidate","candidate":"${CANDIDATE.candidate}"}`, 'bad candidate message: candidate: '],
    ['candidate with a string index', '{"type":"candidate","candidate":{"sdpMLineIndex":"0"}}', 'bad candidate message: candidate.sdpMLineIndex: '],
    ['candidate with a negative index', '{"type":"candidate","candidate":{"sdpMLineIndex":-1}}', 'bad candidate message: candidate.sdpMLineIndex: '],
    ['candidate with a fractional index', '{"type":"candidate","candidate":{"sdpMLineIndex":0.5}}', 'bad candidate message: candidate.sdpMLineIndex: '],
  ])('parseClientFrame() refuses %s', (_name, frame, message) => {
    expect(refused(frame)).toContain(message);
  });

  it('parseClientFrame() cuts a long unknown type to 32 characters in its message', () => {
    const message = refused(JSON.stringify({ type: 'x'.repeat(10_000) }));
    expect(message).toBe(`unknown message type "${'x'.repeat(32)}"`);
  });

  it('parseClientFrame() refuses a frame one byte over 64 KiB before parsing it', () => {
    const frame = JSON.stringify({ type: 'leave' }).padEnd(MAX_FRAME_BYTES + 1, ' ');
    expect(refused(frame)).toBe('frame of 65537 bytes is over the 65536-byte limit');
    expect(refused(Buffer.from(frame))).toBe('frame of 65537 bytes is over the 65536-byte limit');
  });

  it('parseClientFrame() counts the size in UTF-8 bytes, not in characters', () => {
    // 40,000 characters, 80,000 bytes: under the limit by length, over it on the wire.
    const frame = JSON.stringify({ type: 'offer', sdp: 'é'.repeat(40_000) });
    expect(frame.length).toBeLessThan(MAX_FRAME_BYTES);
    expect(refused(frame)).toMatch(/^frame of 800\d\d bytes is over the 65536-byte limit$/);
  });

  it('parseClientFrame() refuses an oversized offer with the size limit, not a schema error', () => {
    const frame = JSON.stringify({ type: 'offer', sdp: 'a'.repeat(MAX_FRAME_BYTES) });
    expect(refused(frame)).toContain('over the 65536-byte limit');
  });
});

describe('parseClientFrame() never throws', () => {
  it('parseClientFrame() answers 200 random byte strings with an error and never throws', () => {
    const random = seededRng(0x5eed);
    for (let n = 0; n < 200; n++) {
      const bytes = Buffer.alloc(Math.floor(random() * 512));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
      for (const frame of [bytes, bytes.toString('latin1')]) {
        let result: ReturnType<typeof parseClientFrame> | undefined;
        expect(() => (result = parseClientFrame(frame)), `input ${n}: ${bytes.toString('hex')}`).not.toThrow();
        expect(result?.ok, `input ${n}: ${bytes.toString('hex')}`).toBe(false);
        expect(typeof result?.message).toBe('string');
      }
    }
  });

  it('parseClientFrame() never throws on 200 mutations of valid frames', () => {
    const random = seededRng(7741);
    const valid = [
      JSON.stringify({ type: 'join', room: 'lobby', name: 'Ada', token: 't' }),
      JSON.stringify({ type: 'offer', sdp: SDP }),
      JSON.stringify({ type: 'candidate', candidate: CANDIDATE }),
      JSON.stringify({ type: 'candidate', candidate: null }),
      JSON.stringify({ type: 'leave' }),
    ];
    const alphabet = '{}[]":,\\ 0-1eE.nulltruefalse"typejoinroom\u0000\u00ff\ud800';
    for (let n = 0; n < 200; n++) {
      const chars = [...valid[n % valid.length]!];
      const edits = 1 + Math.floor(random() * 4);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(random() * chars.length);
        const c = alphabet[Math.floor(random() * alphabet.length)]!;
        if (random() < 0.5) chars.splice(at, 1, c);
        else chars.splice(at, 0, c);
      }
      const frame = chars.join('');
      expect(() => parseClientFrame(frame), `mutation ${n}: ${frame}`).not.toThrow();
    }
  });

  test.each([
    ['deeply nested arrays', '['.repeat(60_000) + ']'.repeat(5_000)],
    ['a deeply nested value under a valid type', `{"type":"join","room":${'['.repeat(30_000)}${']'.repeat(30_000)},"name":"Ada"}`],
    ['a deeply nested candidate', `{"type":"candidate","candidate":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`],
    ['a lone surrogate in a string', '{"type":"join","room":"lobby","name":"\\ud800"}'],
    ['a NUL byte', '{"type":"leave"}\u0000'],
    ['a byte-order mark', '\ufeff{"type":"leave"}'],
  ])('parseClientFrame() does not throw on %s', (_name, frame) => {
    expect(() => parseClientFrame(frame)).not.toThrow();
  });
});
