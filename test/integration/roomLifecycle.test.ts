import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RTCPeerConnection } from 'werift';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAlive } from '../../base/process/procStats.ts';
import { SpareSessions } from '../../mixer/process/SpareSessions.ts';
import { DEFAULT_CONFIG } from '../../src/config.ts';
import { RoomNotFoundError } from '../../src/errors.ts';
import { peerConfig } from '../../src/peers/peerConfig.ts';
import type { Participant } from '../../src/rooms/Participant.ts';
import type { Room } from '../../src/rooms/Room.ts';
import { Rooms } from '../../src/rooms/Rooms.ts';
import { SessionSlots } from '../../src/rooms/SessionSlots.ts';
import type { ServerMessage } from '../../src/signaling/messages.ts';
import type { RecordingTarget } from '../../src/recording/recordingPath.ts';
import { descendants, ffmpegChildren, sessionProcesses } from '../helpers/processes.ts';
import { until } from '../helpers/wait.ts';

/**
 * A room's life with its parts: closing cascades and closing twice is harmless (the server's rooms
 * close their rooms, a room its recording, session, media and participants), and a session that
 * dies takes its participants with it but not the recording. Real parts: a session process with
 * its FFmpeg, a recorder writing a file, a participant answered through a werift peer.
 */

const network = { hostAddresses: ['127.0.0.1'], iceServers: [], disconnectTimeoutMs: 5000, connectTimeoutMs: 20_000 };
const settings = {
  ...DEFAULT_CONFIG.room,
  session: { ...DEFAULT_CONFIG.room.session, canvas: { width: 320, height: 180 }, fps: 15 },
};

/** The room's observer events, in order. */
function watch(room: Room): string[] {
  const heard: string[] = [];
  for (const event of ['close', 'sessionstart', 'sessionclose', 'recordingstart', 'recordingstop', 'participantleft'] as const) {
    room.observer.on(event, () => void heard.push(event));
  }
  return heard;
}

describe('a room and its parts', () => {
  const closers: (() => unknown)[] = [];
  let dir = '';
  /** A client's offer (audio sendrecv, then video), answered by `participant` for real. */
  const offer = async (participant: Participant, video: 'sendrecv' | 'recvonly'): Promise<void> => {
    const client = new RTCPeerConnection(peerConfig(network));
    closers.push(() => client.close());
    client.addTransceiver('audio', { direction: 'sendrecv' });
    client.addTransceiver('video', { direction: video });
    await client.setLocalDescription(await client.createOffer());
    await participant.negotiate(client.localDescription!.sdp);
  };
  /** The server's rooms, over a real spare-less session pool. */
  const serverRooms = (sessions?: SessionSlots): Rooms => {
    const spares = new SpareSessions({ enabled: false });
    const rooms = new Rooms({ defaults: settings, network: { ...network, ...(sessions ? { sessions } : {}) }, autoCreate: true, spares });
    closers.push(() => rooms.close(), () => spares.close());
    return rooms;
  };
  /** A participant that publishes and receives, answered for real; what it was sent. */
  const publisher = async (room: Room): Promise<{ participant: Participant; sent: ServerMessage[] }> => {
    const sent: ServerMessage[] = [];
    const participant = room.join({ name: 'p', signal: { send: (m) => void sent.push(m) } });
    await offer(participant, 'sendrecv');
    expect(sent.some((m) => m.type === 'answer')).toBe(true);
    await until(async () => ((await room.stats()).session?.participants === 1 ? true : undefined), 30_000, 'the participant in the session');
    return { participant, sent };
  };
  /** Records `room` into the test's folder, until its first keyframe is in the file. */
  const record = async (room: Room, file: string): Promise<RecordingTarget> => {
    const target = { path: join(dir, file), file, container: 'matroska' as const };
    await room.startRecording(target);
    await until(() => (room.recording?.state === 'recording' ? true : undefined), 30_000, 'recording');
    return target;
  };
  /** A room of the server's (`maxSessions`) with a publisher in it, recording into `<name>.mkv`. */
  const recordingRoom = async (name: string, maxSessions: number) => {
    const slots = new SessionSlots(maxSessions);
    const rooms = serverRooms(slots);
    const room = await rooms.create(name);
    const heard = watch(room);
    const { participant, sent } = await publisher(room);
    const participantClosed: string[] = [];
    participant.observer.on('close', (reason) => void participantClosed.push(reason));
    const target = await record(room, `${name}.mkv`);
    return { slots, rooms, room, heard, participant, participantClosed, sent, target };
  };
  const nothingLeft = () =>
    until(() => (sessionProcesses().length + ffmpegChildren().length === 0 ? true : undefined), 15_000, 'no session process and no FFmpeg');
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mcu-room-life-'));
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('closes each room, and in it the recording, the session and every participant, once', async () => {
    const { slots, rooms, room, heard, participant, participantClosed, sent, target } = await recordingRoom('cascade', 2);
    expect(sessionProcesses().length).toBeGreaterThan(0);
    expect(slots.used).toBe(1);

    const first = rooms.close();
    const second = rooms.close();
    expect(second).toBe(first);
    await first;

    // Nothing left: no participant, no session, no recording, no stream, no process.
    expect(room.closed).toBe(true);
    expect(participant.closed).toBe(true);
    expect(participantClosed).toEqual(['room closed']);
    expect(room.participantCount).toBe(0);
    expect(room.summary()).toMatchObject({ participants: [], sessionRunning: false, speaker: null });
    expect(room.recording?.state).toBe('finished');
    expect(statSync(target.path).size).toBeGreaterThan(0);
    expect(existsSync(`${target.path}.recording`)).toBe(false);
    expect(slots.used).toBe(0);
    expect((await room.stats()).session).toBeUndefined();
    await nothingLeft();
    // The room left the server's list; the participant left with the room (not one by one).
    expect(await rooms.list()).toEqual([]);
    expect(heard).toEqual(['sessionstart', 'recordingstart', 'recordingstop', 'sessionclose', 'close']);

    // Closing again is harmless and changes nothing; the closed server makes no more rooms.
    await room.close();
    await room.close('again');
    await rooms.close();
    expect(heard.filter((e) => e === 'close')).toHaveLength(1);
    expect(sent.filter((m) => m.type === 'error')).toEqual([]);
    expect(() => room.join({ name: 'late', signal: { send: () => {} } })).toThrow(RoomNotFoundError);
    await expect(room.startRecording({ ...target, path: join(dir, 'late.mkv'), file: 'late.mkv' })).rejects.toThrow(RoomNotFoundError);
    await expect(rooms.forJoin('cascade')).rejects.toThrow(RoomNotFoundError);
    expect(sessionProcesses()).toEqual([]);
  }, 90_000);

  it('closes a room whose session is still starting, and starts none after', async () => {
    const room = await serverRooms().forJoin('starting');
    const heard = watch(room);
    const participant = room.join({ name: 'p', signal: { send: () => {} } });
    await offer(participant, 'recvonly');
    expect(room.summary().sessionRunning).toBe(true);
    expect((await room.stats()).session).toBeUndefined();

    // The session process is booting: closing waits for it, then stops it.
    await Promise.all([room.close('closing early'), room.close()]);
    expect(room.summary().sessionRunning).toBe(false);
    expect(participant.closed).toBe(true);
    expect(heard).toEqual(['sessionstart', 'sessionclose', 'close']);
    await nothingLeft();
  }, 90_000);

  it('loses a session that dies: its participants are told and removed, the recording goes on in a fresh one', async () => {
    const { slots, room, heard, participant, participantClosed, sent, target } = await recordingRoom('lost', 1);
    const [dead] = [...descendants(process.pid)].filter(([, comm]) => comm === 'mcu-session').map(([pid]) => pid);
    expect(dead).toBeTypeOf('number');

    const itsPrograms = [...descendants(dead!).keys()];
    expect(itsPrograms.length).toBeGreaterThan(0);
    process.kill(dead!, 'SIGKILL');
    await until(() => (participant.closed ? true : undefined), 15_000, 'the participant removed');
    // Orphaned, init's now: what the dead session started ends with it (its spawner sees to it).
    await until(() => (itsPrograms.every((pid) => !isAlive(pid)) ? true : undefined), 15_000, "the dead session's programs gone");
    expect(sent).toContainEqual(expect.objectContaining({ type: 'error', code: 'internal' }));
    expect(participantClosed).toEqual(['session lost']);
    await until(() => (room.participantCount === 0 ? true : undefined), 5000, 'the room to count nobody');
    // The recording needs a session: a fresh one starts, in the slot the dead one gave back.
    await until(async () => ((await room.stats()).session ? true : undefined), 30_000, 'a fresh session');
    expect(slots.used).toBe(1);
    expect(room.recording?.state).toBe('recording');
    expect(heard.filter((e) => e === 'sessionstart')).toHaveLength(2);

    // The recording over, the empty room's session goes; the (persistent) room stays.
    expect((await room.stopRecording()).state).toBe('finished');
    expect(statSync(target.path).size).toBeGreaterThan(0);
    await until(() => (room.summary().sessionRunning ? undefined : true), 15_000, 'the session stopped');
    expect(room.closed).toBe(false);
    await nothingLeft();
    // The slot comes back when the session's process has exited and said so (its close event).
    await until(() => (slots.used === 0 ? true : undefined), 10_000, 'the slot given back');
  }, 90_000);
});
