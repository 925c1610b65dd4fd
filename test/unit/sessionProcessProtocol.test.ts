import { describe, expect, it } from 'vitest';
import { sessionProtocol } from '../../mixer/process/sessionProcessProtocol.ts';
import { SESSION_DEFAULTS, type SessionSettings } from '../../mixer/SessionTypes.ts';

// The schemas the session process and the server check each other's messages with: what the
// server really sends passes unchanged, and a broken message is refused with its field named.

const settings: SessionSettings = { ...SESSION_DEFAULTS, compositePort: 40000, compositeH264Port: 40002, everyoneMixPort: 40004 };
const { requests, events, notifications } = sessionProtocol;

describe('sessionProtocol', () => {
  it("passes the server's settings and a participant as they are", () => {
    const init = { settings, backgroundNiceness: 10 };
    expect(requests.init.params.parse(init)).toEqual(init);
    const participant = { id: 'p1', name: 'Ada', video: { codec: 'H264', payloadType: 102 }, audio: { payloadType: 111 }, mixPort: 40010, receivesH264: true };
    expect(requests.add.params.parse(participant)).toEqual(participant);
  });

  it('keeps fields the schemas do not name (the session types may grow)', () => {
    const stats = {
      participants: 1, tiles: ['p1'], layout: { kind: 'speaker' }, tileSource: { width: 640, height: 360 },
      compositorFramesWritten: 90, compositorTicksSkipped: 0, videoClockSkipped: 0, decoderRestarts: 0,
      compositorRestarts: 0, compositeKeyframes: 1, audio: { mixes: 1 }, laterCounter: 3,
    };
    expect(events.stats.parse(stats)).toEqual(stats);
  });

  it('refuses a broken message and names the field', () => {
    const noPort = requests.init.params.safeParse({ settings: { ...settings, compositePort: 0 }, backgroundNiceness: 0 });
    expect(noPort.success).toBe(false);
    expect(noPort.error?.issues[0]?.path).toEqual(['settings', 'compositePort']);
    expect(requests.add.params.safeParse({ id: 'p1', name: 'Ada', video: { codec: 'VP9', payloadType: 98 } }).success).toBe(false);
    expect(notifications.layout.safeParse({ kind: 'mosaic' }).success).toBe(false);
    expect(events.speaker.safeParse(null).success).toBe(true);
    expect(events.decoded.safeParse({ p1: -1 }).success).toBe(false);
  });
});
