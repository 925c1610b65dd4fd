import { describe, expect, it } from 'vitest';
import type { NegotiatedMedia, ParticipantSignal } from '../../src/rooms/ParticipantTypes.ts';
import { receivesH264, RoomMembers } from '../../src/rooms/RoomMembers.ts';
import type { ServerMessage } from '../../src/signaling/messages.ts';

interface Someone {
  id: string;
  name: string;
  hidden: boolean;
}
interface Mix {
  port: number;
}

const someone = (id: string, hidden = false): Someone => ({ id, name: `name of ${id}`, hidden });
const signal = (): ParticipantSignal & { sent: ServerMessage[] } => {
  const sent: ServerMessage[] = [];
  return { sent, send: (message) => void sent.push(message) };
};

const publisher: NegotiatedMedia = {
  plan: {
    audio: { codec: 'opus', publishes: true, receives: true },
    video: { codec: 'VP8', publishes: true, receives: true },
  },
  video: { codec: 'VP8', payloadType: 96 },
  audio: { payloadType: 111 },
};
const h264Viewer: NegotiatedMedia = { plan: { video: { codec: 'H264', publishes: false, receives: true } } };

describe('RoomMembers', () => {
  it('holds one record per participant: its participant, signal, media and mix', () => {
    const members = new RoomMembers<Someone, Mix>(4);
    const a = someone('a');
    const aSignal = signal();
    members.add(a, aSignal);
    expect(members.setMedia('a', publisher)).toBe(true);
    expect(members.setMix('a', { port: 5000 })).toBe(true);
    expect(members.get('a')).toEqual({ participant: a, signal: aSignal, media: publisher, mix: { port: 5000 } });
    expect(members.size).toBe(1);
    expect(members.has('a')).toBe(true);
  });

  it('refuses a participant whose id is in the room already', () => {
    const members = new RoomMembers<Someone, Mix>(4);
    members.add(someone('a'), signal());
    expect(() => members.add(someone('a'), signal())).toThrow(/already/);
    expect(members.size).toBe(1);
  });

  it('is full at its capacity, and not after one leaves', () => {
    const members = new RoomMembers<Someone, Mix>(2);
    members.add(someone('a'), signal());
    expect(members.full).toBe(false);
    members.add(someone('b'), signal());
    expect(members.full).toBe(true);
    members.remove('a');
    expect(members.full).toBe(false);
  });

  it('tells a step that ran after a participant left that it left (false, undefined), and keeps nothing of it', () => {
    const members = new RoomMembers<Someone, Mix>(4);
    members.add(someone('a'), signal());
    const removed = members.remove('a');
    expect(removed?.participant.id).toBe('a');
    expect(members.remove('a')).toBeUndefined();
    expect(members.setMedia('a', publisher)).toBe(false);
    expect(members.setMix('a', { port: 5000 })).toBe(false);
    expect(members.forSession('a')).toBeUndefined();
    expect(members.get('a')).toBeUndefined();
    expect(members.mixes()).toEqual([]);
  });

  it('lists the roster without hidden participants, in join order', () => {
    const members = new RoomMembers<Someone, Mix>(4);
    members.add(someone('a'), signal());
    members.add(someone('recorder', true), signal());
    members.add(someone('b'), signal());
    expect(members.roster()).toEqual([
      { id: 'a', name: 'name of a' },
      { id: 'b', name: 'name of b' },
    ]);
    expect(members.list().map((m) => m.participant.id)).toEqual(['a', 'recorder', 'b']);
  });

  it('lists the mixes of those that have one', () => {
    const members = new RoomMembers<Someone, Mix>(4);
    members.add(someone('a'), signal());
    members.add(someone('b'), signal());
    members.setMix('b', { port: 5002 });
    expect(members.mixes()).toEqual([{ port: 5002 }]);
  });

  it('tells the session what a publisher negotiated and where its mix goes', () => {
    const members = new RoomMembers<Someone, Mix>(4);
    members.add(someone('a'), signal());
    expect(members.forSession('a')).toEqual({ id: 'a', name: 'name of a' });
    members.setMedia('a', publisher);
    members.setMix('a', { port: 5000 });
    expect(members.forSession('a')).toEqual({
      id: 'a',
      name: 'name of a',
      video: { codec: 'VP8', payloadType: 96 },
      audio: { payloadType: 111 },
      mixPort: 5000,
    });
  });

  it('tells the session that a viewer without VP8 receives the composite in H.264', () => {
    const members = new RoomMembers<Someone, Mix>(4);
    members.add(someone('v'), signal());
    members.setMedia('v', h264Viewer);
    expect(members.forSession('v')).toEqual({ id: 'v', name: 'name of v', receivesH264: true });
  });

  it.each([
    ['a VP8 receiver', publisher, false],
    ['an H.264 receiver', h264Viewer, true],
    ['an H.264 publisher that receives no video', { plan: { video: { codec: 'H264', publishes: true, receives: false } } }, false],
    ['an audio-only participant', { plan: { audio: { codec: 'opus', publishes: true, receives: true } } }, false],
  ])('receivesH264: %s → %s', (_what, media, expected) => {
    expect(receivesH264(media as NegotiatedMedia)).toBe(expected);
  });

  it('clears everyone at once and returns their records; a second clear returns none', () => {
    const members = new RoomMembers<Someone, Mix>(4);
    members.add(someone('a'), signal());
    members.add(someone('b'), signal());
    members.setMix('a', { port: 5000 });
    const cleared = members.clear();
    expect(cleared.map((m) => [m.participant.id, m.mix?.port])).toEqual([
      ['a', 5000],
      ['b', undefined],
    ]);
    expect(members.size).toBe(0);
    expect(members.clear()).toEqual([]);
  });
});
