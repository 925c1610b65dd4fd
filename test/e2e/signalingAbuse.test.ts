import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.ts';
import { BotProcess } from '../helpers/bots.ts';
import { longestGap, readFrameLog } from '../helpers/frameLog.ts';
import { ffmpegChildren } from '../helpers/processes.ts';
import { RawClient } from '../helpers/socketClient.ts';
import { startTestServer } from '../helpers/testServer.ts';
import { sleep, until } from '../helpers/wait.ts';

const ROOM = 'abuse';

/** SDP offers that hold nothing the server can use. */
const UNUSABLE_SDP = [
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n',
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n',
  [
    'v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 0', 'a=mid:0', 'a=sendrecv', 'a=rtpmap:0 PCMU/8000',
    'm=video 9 UDP/TLS/RTP/SAVPF 98', 'a=mid:1', 'a=sendrecv', 'a=rtpmap:98 VP9/90000', '',
  ].join('\r\n'),
  [
    'v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0',
    'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:0', 'a=rtpmap:96 VP8/90000',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:1', 'a=rtpmap:111 opus/48000/2', '',
  ].join('\r\n'),
  'this is not SDP at all',
];

/** 100 malformed frames of many kinds: every one must be answered with `error`. */
function malformedFrames(): string[] {
  const frames: string[] = [];
  const notJson = ['{', 'join', '{"type":"join",}', "{'type':'join'}", '\u0000\u0001', 'undefined', '{"type":', '[1,2', '<xml/>', 'NaN'];
  const notObjects = ['[]', '42', '"join"', 'null', 'true', '[{"type":"join"}]'];
  const wrongTypes = [
    '{}',
    '{"type":42}',
    '{"type":null}',
    '{"type":["join"]}',
    '{"type":"join"}',
    '{"type":"join","room":"ok"}',
    '{"type":"join","room":"","name":"x"}',
    '{"type":"join","room":"a b","name":"x"}',
    `{"type":"join","room":"${'r'.repeat(65)}","name":"x"}`,
    '{"type":"join","room":"ok","name":""}',
    `{"type":"join","room":"ok","name":"${'n'.repeat(65)}"}`,
    '{"type":"join","room":"ok","name":7}',
    '{"type":"join","room":"ok","name":"x","token":5}',
    '{"type":"join","room":"ümlaut","name":"x"}',
    '{"type":"offer"}',
    '{"type":"offer","sdp":42}',
    '{"type":"offer","sdp":""}',
    '{"type":"candidate"}',
    '{"type":"candidate","candidate":"a=candidate:1"}',
    '{"type":"candidate","candidate":{"candidate":5}}',
    '{"type":"candidate","candidate":{"sdpMLineIndex":-1}}',
  ];
  const unknown = ['{"type":"hello"}', '{"type":"JOIN"}', '{"type":""}', '{"type":"answer","sdp":"x"}', '{"type":"participants"}'];
  const oversized = [
    JSON.stringify({ type: 'offer', sdp: 'v'.repeat(70 * 1024) }),
    JSON.stringify({ type: 'join', room: 'ok', name: 'x', pad: 'p'.repeat(65 * 1024) }),
  ];
  const sdp = UNUSABLE_SDP.map((s) => JSON.stringify({ type: 'offer', sdp: s }));
  const kinds = [notJson, notObjects, wrongTypes, unknown, oversized, sdp];
  for (let i = 0; frames.length < 100; i++) {
    const kind = kinds[i % kinds.length]!;
    frames.push(kind[Math.floor(i / kinds.length) % kind.length]!);
  }
  return frames;
}

describe('signaling under abuse', () => {
  let server: RunningServer;
  let dir: string;
  let bot: BotProcess | undefined;

  beforeAll(async () => {
    server = await startTestServer();
    dir = mkdtempSync(join(tmpdir(), 'mcu-abuse-'));
  });

  afterAll(async () => {
    await bot?.stop();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers each of 100 malformed frames with error while a bot in the room keeps receiving', async () => {
    const frameLog = join(dir, 'bot.frames');
    bot = new BotProcess({ url: server.socketUrl, room: ROOM, name: 'steady', color: 'red', tone: 440, frameLog });
    await bot.waitForStart();
    await bot.waitForFrames(30, 15_000);

    const client = await RawClient.connect(server.socketUrl);
    client.send(JSON.stringify({ type: 'join', room: ROOM, name: 'prober' }));
    await until(() => (client.replies.some((r) => r.type === 'joined') ? true : undefined), 5000, 'joined');
    const frames = malformedFrames();
    expect(frames).toHaveLength(100);
    const start = Date.now();
    for (const frame of frames) {
      client.send(frame);
      await sleep(30);
    }
    client.send(Buffer.from([1, 2, 3]), true);
    await until(() => (client.errors().length >= 101 ? true : undefined), 15_000, '101 error replies');
    const end = Date.now();
    expect(client.errors()).toHaveLength(101);
    for (const error of client.errors()) {
      expect(typeof error.code).toBe('string');
      expect(typeof error.message).toBe('string');
    }
    expect(client.closed).toBe(false);

    // A second join is refused with its own code (README, Signaling), and adds nobody.
    client.send(JSON.stringify({ type: 'join', room: ROOM, name: 'again' }));
    await until(() => (client.errors().length === 102 ? true : undefined), 5000, 'the second join refused');
    expect(client.errors()[101]?.code).toBe('already_joined');
    expect((await server.rooms.get(ROOM))?.participantCount).toBe(2);

    // The connection still works: a real leave is accepted, and the room lists only the bot.
    client.send(JSON.stringify({ type: 'leave' }));
    const room = await server.rooms.get(ROOM);
    await until(() => (room?.participantCount === 1 ? true : undefined), 5000, 'the prober to leave');
    client.close();

    // The bot received the composite all along.
    await sleep(1000);
    const times = readFrameLog(frameLog);
    const during = times.filter((t) => t >= start && t <= end);
    expect(during.length).toBeGreaterThan(((end - start) / 1000) * 20);
    expect(longestGap(times, start, end)).toBeLessThan(1000);
  }, 90_000);

  it('removes a participant that goes silent without closing anything (frozen), within 10 s', async () => {
    const frozen = new BotProcess({ url: server.socketUrl, room: 'frozen', name: 'frozen', color: 'green', tone: 500 });
    try {
      await frozen.waitForStart();
      const frozenAt = Date.now();
      frozen.freeze();
      await until(async () => ((await server.rooms.get('frozen')) === undefined ? true : undefined), 12_000, 'the room to empty');
      expect(Date.now() - frozenAt).toBeLessThan(10_000);
    } finally {
      await frozen.kill();
    }
  }, 60_000);

  it('removes a participant whose process dies without leaving, within 10 s, and its session with the last one', async () => {
    const victim = new BotProcess({ url: server.socketUrl, room: 'crash', name: 'victim', color: 'blue', tone: 880 });
    await victim.waitForStart();
    const room = await server.rooms.get('crash');
    expect(room?.participantCount).toBe(1);
    expect(ffmpegChildren().length).toBeGreaterThan(0);
    const killedAt = Date.now();
    await victim.kill();
    await until(async () => ((await server.rooms.get('crash')) === undefined ? true : undefined), 10_000, 'the room to empty');
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    // The abuse room's bot still runs its session; nothing of the crashed room's is left.
    const abuse = await (await server.rooms.get(ROOM))?.stats();
    expect(abuse?.session?.participants).toBe(1);
    await bot?.stop();
    bot = undefined;
    await until(() => (ffmpegChildren().length === 0 ? true : undefined), 10_000, 'every FFmpeg process to exit');
  }, 60_000);
});
