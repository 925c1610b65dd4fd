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

/** The rooms as an aligned table with a header row. */
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
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}
