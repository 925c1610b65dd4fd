import { describe, expect, it } from 'vitest';
import { kindsToRecord, RECORD_VIDEO_WAIT_MS, type ArrivedMedia } from '../../src/bot/BotRecorder.ts';

const nothing: ArrivedMedia = { videoBytes: 0, audioPackets: 0, receivesAudio: true, receivesVideo: true, sinceConnectedMs: 0 };

describe('kindsToRecord()', () => {
  it('waits while nothing has arrived, however long', () => {
    expect(kindsToRecord(nothing)).toBeUndefined();
    expect(kindsToRecord({ ...nothing, sinceConnectedMs: 60_000 })).toBeUndefined();
  });

  it('records video and audio from the first video packet', () => {
    expect(kindsToRecord({ ...nothing, videoBytes: 1000 })).toEqual(['video', 'audio']);
    expect(kindsToRecord({ ...nothing, videoBytes: 1000, audioPackets: 5 })).toEqual(['video', 'audio']);
  });

  it('records video alone when the peer does not receive audio', () => {
    expect(kindsToRecord({ ...nothing, videoBytes: 1000, receivesAudio: false })).toEqual(['video']);
  });

  it('waits for video while audio flows, then records audio alone after the wait', () => {
    const audio = { ...nothing, audioPackets: 50 };
    expect(kindsToRecord({ ...audio, sinceConnectedMs: RECORD_VIDEO_WAIT_MS - 1 })).toBeUndefined();
    expect(kindsToRecord({ ...audio, sinceConnectedMs: RECORD_VIDEO_WAIT_MS })).toEqual(['audio']);
  });

  it('records audio at once when the peer does not receive video', () => {
    expect(kindsToRecord({ ...nothing, audioPackets: 1, receivesVideo: false })).toEqual(['audio']);
  });
});
