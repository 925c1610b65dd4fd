import { describe, expect, it } from 'vitest';
import { createMetrics, ROOM_METRICS, roomMetricValues, VIEWER_METRICS, viewerMetricSamples } from '../../src/metrics/metrics.ts';
import { sampleRoomStats } from '../fixtures/roomStats.ts';

const ctx = Object.freeze({ stats: sampleRoomStats });

describe('roomMetricValues()', () => {
  it('maps a room’s figures to every per-room metric', () => {
    expect(roomMetricValues(ctx.stats())).toEqual({
      mcu_participants: 2,
      mcu_session_running: 1,
      mcu_composite_fps: 29.9,
      mcu_composite_bitrate_bps: 1_412_300,
      mcu_composite_target_bitrate_bps: 1_500_000,
      mcu_mix_bitrate_bps: 33_100,
      mcu_mix_silent_publishers: 1,
      mcu_composite_frames_total: 900,
      mcu_decoder_restarts_total: 2,
      mcu_compositor_restarts_total: 1,
      mcu_keyframe_requests_total: 7,
      mcu_composite_keyframes_total: 3,
      mcu_nacks_received_total: 5,
      mcu_nacks_sent_total: 11,
      mcu_retransmissions_refused_total: 2,
      mcu_recording_active: 1,
      mcu_recording_bytes: 2_000_000,
      mcu_recording_seconds: 12.5,
    });
  });

  it('reads an idle room (no session, a finished recording) as zeros, not gaps', () => {
    const values = roomMetricValues(
      ctx.stats({
        participants: [],
        sessionRunning: false,
        session: undefined,
        recording: { ...ctx.stats().recording!, state: 'finished' },
      }),
    );
    expect(values.mcu_participants).toBe(0);
    expect(values.mcu_decoder_restarts_total).toBe(0);
    expect(values.mcu_recording_active).toBe(0);
    expect(values.mcu_recording_bytes).toBe(0);
  });

  it('names every metric by Prometheus rules, counters ending in _total', () => {
    for (const metric of ROOM_METRICS) {
      expect(metric.name).toMatch(/^mcu_[a-z_]+$/);
      expect(metric.name.endsWith('_total')).toBe(metric.type === 'counter');
    }
  });
});

describe('viewerMetricSamples()', () => {
  it('gives each viewer its rung, height, estimate, what it receives, loss, and switches by direction', () => {
    const bob = viewerMetricSamples([ctx.stats()]).filter((s) => s.labels.participant === 'b2');
    const labels = { room: 'standup', participant: 'b2' };
    expect(bob).toEqual([
      { name: 'mcu_viewer_rung', labels, value: 2 },
      { name: 'mcu_viewer_rung_height_pixels', labels, value: 180 },
      { name: 'mcu_viewer_estimate_bps', labels, value: 280_000 },
      { name: 'mcu_viewer_receiving_bps', labels, value: 190_000 },
      { name: 'mcu_viewer_loss_ratio', labels, value: 0.02 },
      { name: 'mcu_viewer_rung_switches_total', labels: { ...labels, direction: 'up' }, value: 1 },
      { name: 'mcu_viewer_rung_switches_total', labels: { ...labels, direction: 'down' }, value: 2 },
    ]);
  });

  it('leaves out an estimate the browser has not sent yet, and a room without viewers has none', () => {
    const base = ctx.stats();
    const early = ctx.stats({ viewers: { b2: { ...base.viewers.b2!, estimateBps: undefined } } });
    const names = viewerMetricSamples([early]).map((s) => s.name);
    expect(names).not.toContain('mcu_viewer_estimate_bps');
    expect(names).toContain('mcu_viewer_rung');
    expect(viewerMetricSamples([ctx.stats({ viewers: {} })])).toEqual([]);
    for (const metric of VIEWER_METRICS) expect(metric.name).toMatch(/^mcu_viewer_[a-z_]+$/);
  });
});

describe('createMetrics()', () => {
  it('renders the Prometheus text format with one series per room, and drops a room that is gone', async () => {
    let rooms = [ctx.stats(), ctx.stats({ name: 'empty', participants: [], recording: null, viewers: {} })];
    const metrics = createMetrics(async () => rooms, { processMetrics: false });
    expect(metrics.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await metrics.render();
    expect(text).toContain('# HELP mcu_rooms Rooms on this server\n# TYPE mcu_rooms gauge\nmcu_rooms 2\n');
    expect(text).toContain('# TYPE mcu_participants gauge\nmcu_participants{room="standup"} 2\nmcu_participants{room="empty"} 0\n');
    expect(text).toContain('# TYPE mcu_nacks_received_total counter\nmcu_nacks_received_total{room="standup"} 5\n');
    expect(text).toContain('mcu_composite_fps{room="standup"} 29.9\n');
    expect(text).toContain('mcu_recording_bytes{room="standup"} 2000000\n');

    expect(text).toContain('# TYPE mcu_viewer_rung gauge\nmcu_viewer_rung{room="standup",participant="a1"} 0\nmcu_viewer_rung{room="standup",participant="b2"} 2\n');
    expect(text).toContain('mcu_viewer_rung_height_pixels{room="standup",participant="a1"} 720\n');
    expect(text).toContain('mcu_viewer_loss_ratio{room="standup",participant="b2"} 0.02\n');
    expect(text).toContain('# TYPE mcu_viewer_rung_switches_total counter\n');
    expect(text).toContain('mcu_viewer_rung_switches_total{room="standup",participant="b2",direction="down"} 2\n');

    rooms = [ctx.stats({ name: 'empty', participants: [], recording: null, viewers: {} })];
    const later = await metrics.render();
    expect(later).toContain('mcu_rooms 1\n');
    expect(later).not.toContain('room="standup"');
    // Bob alone once alice has left.
    rooms = [ctx.stats({ viewers: { b2: ctx.stats().viewers.b2! } })];
    const third = await metrics.render();
    expect(third).toContain('mcu_viewer_rung{room="standup",participant="b2"} 2\n');
    expect(third).not.toContain('participant="a1"');
  });

  it('adds Node’s process metrics, event-loop delay among them', async () => {
    const text = await createMetrics(async () => []).render();
    expect(text).toContain('mcu_process_cpu_seconds_total');
    expect(text).toContain('mcu_nodejs_eventloop_lag_seconds');
  });
});
