import { describe, expect, test } from 'vitest';
import { eachReturns } from '../helpers/table.ts';
import {
  crashSafeMuxerArgs,
  durationProbeArgs,
  recorderArgs,
  recordingContainer,
  recordingVideoCodec,
  repairArgs,
} from '../../src/recording/recorderArgs.ts';

describe('recordingContainer()', () => {
  eachReturns('%s → %s', recordingContainer, [
    ['talk.webm', 'webm'],
    ['talk.WEBM', 'webm'],
    ['talk.mkv', 'matroska'],
    ['a/b/talk.mp4', 'mp4'],
    ['talk.mp3', undefined],
    ['talk', undefined],
    ['dir.webm/talk', undefined],
    ['.webm', undefined],
  ]);
});

test('recordingVideoCodec(): VP8 for WebM and Matroska (no second encode), H.264 for MP4 (FFmpeg 5.1 has no VP8 in MP4)', () => {
  expect(recordingVideoCodec('webm')).toBe('VP8');
  expect(recordingVideoCodec('matroska')).toBe('VP8');
  expect(recordingVideoCodec('mp4')).toBe('H264');
});

describe('crashSafeMuxerArgs()', () => {
  test.each([
    ['webm', ['-f', 'webm', '-cluster_time_limit', '500', '-flush_packets', '1']],
    ['matroska', ['-f', 'matroska', '-cluster_time_limit', '500', '-flush_packets', '1']],
    [
      'mp4',
      ['-f', 'mp4', '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-frag_duration', '500000', '-flush_packets', '1'],
    ],
  ] as const)('%s: flushed at least every 500 ms', (container, args) => {
    expect(crashSafeMuxerArgs(container)).toEqual(args);
  });
});

test('recorderArgs(): RTP through the SDP, a tiny probe, stream copy of one video and one audio, never overwriting', () => {
  expect(recorderArgs({ sdpPath: '/tmp/r/input.sdp', outputPath: '/rec/a b.webm', container: 'webm' })).toEqual([
    '-hide_banner', '-loglevel', 'warning', '-nostats', '-nostdin',
    '-protocol_whitelist', 'file,udp,rtp', '-probesize', '32', '-analyzeduration', '0',
    '-i', '/tmp/r/input.sdp',
    '-map', '0:v:0', '-map', '0:a:0', '-c', 'copy',
    '-f', 'webm', '-cluster_time_limit', '500', '-flush_packets', '1',
    '-n', 'file:/rec/a b.webm',
  ]);
});

test('recorderArgs() for MP4 probes the H.264 composite for up to a second and writes fragments', () => {
  const args = recorderArgs({ sdpPath: '/s.sdp', outputPath: '/rec/x.mp4', container: 'mp4' });
  expect(args.slice(5, 13)).toEqual(['-protocol_whitelist', 'file,udp,rtp', '-probesize', '1000000', '-analyzeduration', '1000000', '-i', '/s.sdp']);
  expect(args.slice(args.indexOf('-f'))).toEqual([
    '-f', 'mp4', '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-frag_duration', '500000', '-flush_packets', '1',
    '-n', 'file:/rec/x.mp4',
  ]);
});

test('repairArgs(): stream copy of everything into a finished file; MP4 comes out with its index first', () => {
  expect(repairArgs('/rec/a.mkv', '/rec/.a.mkv.repair', 'matroska')).toEqual([
    '-hide_banner', '-loglevel', 'error', '-nostats', '-nostdin',
    '-i', 'file:/rec/a.mkv', '-map', '0', '-c', 'copy', '-f', 'matroska', '-y', 'file:/rec/.a.mkv.repair',
  ]);
  expect(repairArgs('/rec/a.mp4', '/rec/t', 'mp4')).toContain('+faststart');
});

test('durationProbeArgs() reads only the container duration', () => {
  expect(durationProbeArgs('/rec/a.webm')).toEqual([
    '-v', 'error', '-show_entries', 'format=duration', '-of', 'default=noprint_wrappers=1:nokey=1', 'file:/rec/a.webm',
  ]);
});
