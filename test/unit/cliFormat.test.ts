import { describe, expect, test } from 'vitest';
import { formatBytes, formatDuration, roomsTable, statusLine, viewerLine } from '../../src/cli/format.ts';
import type { RecordingInfo } from '../../src/recording/RecorderTypes.ts';
import type { RoomStats } from '../../src/rooms/RoomTypes.ts';
import { sampleRecording, sampleRoomStats } from '../fixtures/roomStats.ts';

const recording = (overrides: Partial<RecordingInfo> = {}): RecordingInfo =>
  sampleRecording({ durationSeconds: 83.4, frames: 2500, bytes: 12_900_000, ...overrides });

const room = (overrides: Partial<RoomStats> = {}): RoomStats =>
  sampleRoomStats({
    session: undefined,
    composite: { packets: 1, bytes: 1, frames: 1, switches: 1, fps: 29.94, bitrateKbps: 1449.6 },
    mix: { bitrateKbps: 32.4, burstDropped: 0, jitterMs: 1.2, silentPublishers: 0 },
    nacks: { received: 0, sent: 0, refused: 0 },
    recording: recording(),
    ...overrides,
  });

describe('formatBytes() and formatDuration()', () => {
  test.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KB'],
    [12_900_000, '12.3 MB'],
    [5 * 1024 ** 3, '5.0 GB'],
  ])('%d bytes → %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text));

  test.each([
    [0, '00:00:00'],
    [59.9, '00:00:59'],
    [83.4, '00:01:23'],
    [3600 * 26 + 61, '26:01:01'],
    [-3, '00:00:00'],
  ])('%d s → %s', (seconds, text) => expect(formatDuration(seconds)).toBe(text));
});

describe('statusLine()', () => {
  test('participants, composite fps, outgoing bitrate, recording duration and size', () => {
    expect(statusLine(room())).toBe('room standup | 2 participants | 29.9 fps | out 1482 kbit/s | rec standup.webm 00:01:23 12.3 MB');
  });

  test.each([
    [null, 'rec off'],
    [recording({ state: 'starting', startedAt: null, durationSeconds: 0, bytes: 0 }), 'rec standup.webm starting'],
    [recording({ state: 'finished' }), 'rec off'],
    [recording({ state: 'failed', error: 'FFmpeg exited' }), 'rec FAILED (standup.webm)'],
  ])('a recording that is %j reads "%s"', (rec, text) => {
    expect(statusLine(room({ recording: rec, participants: [{ id: 'a1', name: 'alice' }] }))).toBe(
      `room standup | 1 participant | 29.9 fps | out 1482 kbit/s | ${text}`,
    );
  });
});

test('roomsTable() aligns its columns under a header, each viewer’s rung under its room', () => {
  const table = roomsTable([room(), room({ name: 'lobby', participants: [], viewers: {}, recording: null, composite: { ...room().composite, fps: 0, bitrateKbps: 0 }, mix: { bitrateKbps: 0, burstDropped: 0, jitterMs: 0, silentPublishers: 0 } })]);
  expect(table.split('\n')).toEqual([
    'ROOM     PARTICIPANTS          LAYOUT  FPS   OUT KBIT/S  RECORDING',
    'standup  2 (alice a1, bob b2)  grid    29.9  1482        standup.webm 00:01:23 12.3 MB',
    '  alice 1280x720 est 2400 kbit/s loss 0% ↑0 ↓0',
    '  bob 320x180 est 280 kbit/s loss 2% ↑1 ↓2',
    'lobby    0                     grid    0.0   0           off',
  ]);
  expect(roomsTable([])).toBe('no rooms');
});

test('viewerLine(): its cap, audio only, an estimate not known yet, a viewer nobody lists', () => {
  const bob = room().viewers.b2!;
  const viewers = {
    b2: { ...bob, rung: 1, cap: 1, width: 640, height: 360, loss: 0.004 },
    c3: { ...bob, rung: 3, cap: 3, estimateBps: undefined, width: 0, height: 0, switchesUp: 0, switchesDown: 1 },
  };
  const stats = room({ viewers });
  expect(viewerLine(stats, 'b2')).toBe('bob 640x360 est 280 kbit/s loss 0.4% ↑1 ↓2 cap 640x360');
  // A hidden participant (a recorder) is in no roster: its id.
  expect(viewerLine(stats, 'c3')).toBe('c3 audio only est – kbit/s loss 2% ↑0 ↓1 cap audio only');
});
