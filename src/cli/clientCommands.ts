import { Command, Option } from 'commander';
import type { RecordingInfo } from '../recording/RecorderTypes.ts';
import type { RoomStats } from '../rooms/RoomTypes.ts';
import { roomName, serverUrl } from './argParsers.ts';
import { callApi } from './apiClient.ts';
import { clientToken } from './tokenCommands.ts';
import { formatBytes, roomsTable } from './format.ts';

/** Commands that talk to a running server through its REST API. */

export const DEFAULT_URL = 'http://127.0.0.1:8080';

const urlOption = (): Option =>
  new Option('--url <url>', 'URL of the running server').default(DEFAULT_URL).env('MCU_URL').argParser(serverUrl);

const print = (line: string): void => void process.stdout.write(`${line}\n`);

function describeStopped(info: RecordingInfo): string {
  const problem = info.error ? ` (${info.error})` : '';
  return `${info.state}: ${info.file}, ${info.durationSeconds.toFixed(1)} s, ${formatBytes(info.bytes)}${problem}`;
}

export function roomsCommand(): Command {
  return new Command('rooms')
    .description('list the rooms of a running server: participants, layout, composite fps, outgoing bitrate, recording, and the rung each viewer receives')
    .addOption(urlOption())
    .option('--json', 'print the API answer as JSON', false)
    .action(async (flags: { url: string; json: boolean }) => {
      const answer = await callApi<{ rooms: RoomStats[] }>(flags.url, 'GET', 'api/rooms', undefined, await clientToken({ roomList: true }));
      const rooms = answer?.rooms ?? [];
      print(flags.json ? JSON.stringify(rooms, null, 2) : roomsTable(rooms));
    });
}

export function recordCommand(): Command {
  const record = new Command('record').description("start or stop a room's recording on a running server");
  record
    .command('start')
    .description('record the composite and the mix of a room into the recordings folder (.webm, .mkv or .mp4 by extension)')
    .argument('<room>', 'room name', roomName)
    .argument('[file]', 'file name inside the recordings folder (default: <room>-<time>.webm)')
    .addOption(urlOption())
    .action(async (room: string, file: string | undefined, flags: { url: string }) => {
      const info = await callApi<RecordingInfo>(
        flags.url,
        'POST',
        `api/rooms/${room}/recording`,
        file ? { file } : {},
        await clientToken({ room, roomRecord: true }),
      );
      print(`recording room ${room} into ${info?.file ?? file ?? '?'}`);
    });
  record
    .command('stop')
    .description("stop a room's recording; returns once the file is finalized")
    .argument('<room>', 'room name', roomName)
    .addOption(urlOption())
    .action(async (room: string, flags: { url: string }) => {
      const info = await callApi<RecordingInfo>(flags.url, 'DELETE', `api/rooms/${room}/recording`, undefined, await clientToken({ room, roomRecord: true }));
      if (info) print(describeStopped(info));
    });
  return record;
}

export function kickCommand(): Command {
  return new Command('kick')
    .description('remove a participant from a room (it is told with a `kicked` error); ids are listed by `mcu rooms`')
    .argument('<room>', 'room name', roomName)
    .argument('<participant>', 'participant id')
    .addOption(urlOption())
    .action(async (room: string, participant: string, flags: { url: string }) => {
      await callApi(
        flags.url,
        'DELETE',
        `api/rooms/${room}/participants/${encodeURIComponent(participant)}`,
        undefined,
        await clientToken({ room, roomAdmin: true }),
      );
      print(`kicked ${participant} from room ${room}`);
    });
}
