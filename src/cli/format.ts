import type { RecordingInfo } from '../recording/RecorderTypes.ts';
import type { RoomStats } from '../rooms/RoomTypes.ts';

/** Pure formatting of what the CLI prints: the `mcu start` status line and the `mcu rooms` table. */

/** 1536 → `1.5 KB` (powers of 1024, one decimal from KB up). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** 83.4 → `00:01:23` (whole seconds, hours grow past 99 if need be). */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(Math.floor(total / 3600))}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
}

function describeRecording(recording: RecordingInfo | null): string {
  if (!recording) return 'rec off';
  switch (recording.state) {
    case 'starting':
      return `rec ${recording.file} starting`;
    case 'recording':
    case 'stopping':
      return `rec ${recording.file} ${formatDuration(recording.durationSeconds)} ${formatBytes(recording.bytes)}`;
    case 'finished':
      return 'rec off';
    case 'failed':
      return `rec FAILED (${recording.file})`;
  }
}

/** `room default | 2 participants | 30.0 fps | out 1482 kbit/s | rec talk.webm 00:01:23 12.3 MB` */
export function statusLine(stats: RoomStats): string {
  const count = stats.participants.length;
  const out = Math.round(stats.composite.bitrateKbps + stats.mix.bitrateKbps);
  return [
    `room ${stats.name}`,
    `${count} participant${count === 1 ? '' : 's'}`,
    `${stats.composite.fps.toFixed(1)} fps`,
    `out ${out} kbit/s`,
    describeRecording(stats.recording),
  ].join(' | ');
}

/** A rung of the room's ladder by its size (`settings.ladder`), or `audio only` past its end. */
function rungSize(stats: RoomStats, rung: number): string {
  return stats.settings.ladder[rung]?.replace(/@.*$/, '') ?? 'audio only';
}

/** `bob 320x180 est 280 kbit/s loss 2% ↑1 ↓2` (and `cap 640x360` when the viewer set one). */
export function viewerLine(stats: RoomStats, id: string): string {
  const viewer = stats.viewers[id];
  if (!viewer) return id;
  const name = stats.participants.find((p) => p.id === id)?.name ?? id;
  const estimate = viewer.estimateBps === undefined ? '–' : String(Math.round(viewer.estimateBps / 1000));
  const cap = viewer.cap > 0 ? ` cap ${rungSize(stats, viewer.cap)}` : '';
  const loss = Number((viewer.loss * 100).toFixed(1));
  return `${name} ${rungSize(stats, viewer.rung)} est ${estimate} kbit/s loss ${loss}% ↑${viewer.switchesUp} ↓${viewer.switchesDown}${cap}`;
}

/** The rooms as an aligned table with a header row; under each room, a line per viewer of its composite. */
export function roomsTable(rooms: RoomStats[]): string {
  if (rooms.length === 0) return 'no rooms';
  const rows = [
    ['ROOM', 'PARTICIPANTS', 'LAYOUT', 'FPS', 'OUT KBIT/S', 'RECORDING'],
    ...rooms.map((room) => [
      room.name,
      room.participants.length === 0
        ? '0'
        : `${room.participants.length} (${room.participants.map((p) => `${p.name} ${p.id}`).join(', ')})`,
      room.layout.kind,
      room.composite.fps.toFixed(1),
      String(Math.round(room.composite.bitrateKbps + room.mix.bitrateKbps)),
      describeRecording(room.recording).replace(/^rec /, ''),
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]): string => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  return [
    line(rows[0]!),
    ...rooms.flatMap((room, i) => [line(rows[i + 1]!), ...Object.keys(room.viewers).map((id) => `  ${viewerLine(room, id)}`)]),
  ].join('\n');
}
