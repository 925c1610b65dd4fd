import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.ts';
import { McuProcess } from '../helpers/serverProcess.ts';
import { RawClient } from '../helpers/socketClient.ts';
import { startTestServer } from '../helpers/testServer.ts';
import { until } from '../helpers/wait.ts';

// Each command is the real CLI in its own process (node bin/mcu.js), against a real server.

/** Every error ends a command with exit code 1 and one line on stderr that starts with `mcu: `. */
function expectOneLineError(result: { code: number | null; stderr: string }, words: RegExp): void {
  expect(result.code).toBe(1);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^mcu: /);
  expect(lines[0]).toMatch(words);
}

describe('the mcu CLI', () => {
  let server: RunningServer;
  let dir: string;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcu-cli-'));
    server = await startTestServer({ recordingsDir: dir });
    url = server.url.replace(/\/$/, '');
    await server.rooms.create('cli-room', { session: { ...server.rooms.defaults.session, canvas: { width: 320, height: 180 } } });
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has --help on every command', async () => {
    const commands = [[], ['serve'], ['start'], ['rooms'], ['record'], ['record', 'start'], ['record', 'stop'], ['kick'], ['bot']];
    const results = await Promise.all(commands.map((c) => McuProcess.run([...c, '--help'])));
    for (const [i, result] of results.entries()) {
      expect(result.code, commands[i]!.join(' ')).toBe(0);
      expect(result.stdout).toMatch(/^Usage: mcu/);
    }
    expect(results[2]!.stdout).toContain('--record [file]');
    expect(results[2]!.stdout).toContain('--layout <layout>');
    expect(results[1]!.stdout).toContain('--recordings <dir>');
  }, 60_000);

  it('lists rooms, records, stops and kicks on a running server', async () => {
    const alice = await RawClient.connect(server.socketUrl);
    alice.send(JSON.stringify({ type: 'join', room: 'cli-room', name: 'alice' }));
    await until(() => (alice.replies.some((r) => r.type === 'joined') ? true : undefined), 5000, 'alice joined');
    const aliceId = String(alice.replies.find((r) => r.type === 'joined')?.id);

    const rooms = await McuProcess.run(['rooms', '--url', url]);
    expect(rooms.code).toBe(0);
    expect(rooms.stdout.split('\n')[0]).toMatch(/^ROOM\s+PARTICIPANTS\s+LAYOUT\s+FPS\s+OUT KBIT\/S\s+RECORDING$/);
    expect(rooms.stdout).toMatch(new RegExp(`cli-room\\s+1 \\(alice ${aliceId}\\)\\s+grid`));

    const json = await McuProcess.run(['rooms', '--json'], { MCU_URL: url });
    expect((JSON.parse(json.stdout) as { name: string }[]).map((r) => r.name)).toContain('cli-room');

    const start = await McuProcess.run(['record', 'start', 'cli-room', 'take.webm', '--url', url]);
    expect(start).toMatchObject({ code: 0, stdout: 'recording room cli-room into take.webm' });
    await until(async () => ((await server.rooms.get('cli-room'))?.recording?.state === 'recording' ? true : undefined), 20_000, 'recording');
    const stop = await McuProcess.run(['record', 'stop', 'cli-room', '--url', url]);
    expect(stop.code).toBe(0);
    expect(stop.stdout).toMatch(/^finished: take\.webm, [\d.]+ s, [\d.]+ [KM]?B$/);

    const kick = await McuProcess.run(['kick', 'cli-room', aliceId, '--url', url]);
    expect(kick).toMatchObject({ code: 0, stdout: `kicked ${aliceId} from room cli-room` });
    await until(() => (alice.errors().some((e) => e.code === 'kicked') ? true : undefined), 5000, 'alice told she was kicked');
    alice.close();
  }, 90_000);

  it('ends with one clear line and exit code 1 on every error', async () => {
    const port = String(server.port);
    const [unknownRoom, notRecording, escape, badOption, badValue, noServer, missingArg] = await Promise.all([
      McuProcess.run(['record', 'start', 'nowhere', '--url', url]),
      McuProcess.run(['record', 'stop', 'cli-room', '--url', url]),
      McuProcess.run(['record', 'start', 'cli-room', '../../etc/x.webm', '--url', url]),
      McuProcess.run(['serve', '--prot', '8080']),
      McuProcess.run(['start', '--fps', 'many']),
      McuProcess.run(['rooms', '--url', 'http://127.0.0.1:59999']),
      McuProcess.run(['kick', 'cli-room']),
    ]);
    expectOneLineError(unknownRoom, /room nowhere does not exist \(room_not_found\)/);
    expectOneLineError(notRecording, /not recording \(recording_not_found\)/);
    expectOneLineError(escape, /outside the recordings folder \(bad_path\)/);
    expectOneLineError(badOption, /unknown option '--prot'/);
    expectOneLineError(badValue, /--fps/);
    expectOneLineError(noServer, /cannot reach the server at http:\/\/127\.0\.0\.1:59999 \(ECONNREFUSED\)/);
    expectOneLineError(missingArg, /missing required argument 'participant'/);

    const [portTaken, noFfmpeg, startEscape, badPlaceholder, badLadder, ladderTooDear] = await Promise.all([
      McuProcess.run(['serve', '--port', port, '--recordings', dir]),
      McuProcess.run(['serve', '--port', '0'], { MCU_FFMPEG: '/nonexistent/ffmpeg' }),
      McuProcess.run(['start', 'r', '--port', '0', '--recordings', dir, '--record', '/etc/passwd.webm']),
      McuProcess.run(['serve', '--placeholder-after', '0']),
      McuProcess.run(['start', '--ladder', '640x360']),
      McuProcess.run(['serve', '--port', '0', '--bitrate', '400', '--ladder', '640x360@500']),
    ]);
    expectOneLineError(portTaken, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use`));
    expectOneLineError(noFfmpeg, /ffmpeg not found/);
    expectOneLineError(startEscape, /outside the recordings folder/);
    expectOneLineError(badPlaceholder, /--placeholder-after.*from 0\.1 to 600/);
    expectOneLineError(badLadder, /--ladder.*must be WIDTHxHEIGHT@KBPS rungs below the composite/);
    expectOneLineError(ladderTooDear, /--ladder: must fit below the composite 1280x720@400 \(rung 1\): rung 2 \(640x360@500\)/);
  }, 90_000);
});
