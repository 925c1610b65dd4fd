import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ViewerRungFigures } from '../rooms/RoomLadders.ts';
import type { RoomStats } from '../rooms/RoomTypes.ts';
import type { Refusals } from './refusals.ts';

/**
 * Prometheus metrics (GET /metrics). The figures come from `room.stats()` at each scrape; which
 * figure becomes which metric is the pure table below, tested on its own.
 */

export type MetricType = 'gauge' | 'counter';

export interface RoomMetricDefinition {
  name: string;
  type: MetricType;
  help: string;
  value: (stats: RoomStats) => number;
}

const recordingActive = (s: RoomStats): boolean =>
  s.recording !== null && (s.recording.state === 'starting' || s.recording.state === 'recording' || s.recording.state === 'stopping');

type SessionFigures = NonNullable<RoomStats['session']>;
/** The session's figures that are counts. */
type SessionCount = { [K in keyof SessionFigures]: SessionFigures[K] extends number ? K : never }[keyof SessionFigures];

/** A counter of the current session: 0 while the room has none. */
const sessionCounter = (name: string, help: string, count: SessionCount): RoomMetricDefinition => ({
  name,
  type: 'counter',
  help,
  value: (s) => s.session?.[count] ?? 0,
});

/** Every per-room metric, labelled `room`. Session counters start again with each session. */
export const ROOM_METRICS: readonly RoomMetricDefinition[] = Object.freeze([
  { name: 'mcu_participants', type: 'gauge', help: 'Participants in the room', value: (s) => s.participants.length },
  { name: 'mcu_session_running', type: 'gauge', help: '1 while the room has a running session (mixer)', value: (s) => Number(s.sessionRunning) },
  {
    name: 'mcu_composite_fps',
    type: 'gauge',
    help: 'Composite frames sent per second, over the last 5 s',
    value: (s) => s.composite.fps,
  },
  {
    name: 'mcu_composite_bitrate_bps',
    type: 'gauge',
    help: 'Bitrate of the composite as the encoder sends it (RTP), over the last 5 s',
    value: (s) => Math.round(s.composite.bitrateKbps * 1000),
  },
  {
    name: 'mcu_composite_target_bitrate_bps',
    type: 'gauge',
    help: 'Bitrate the composite encoder is configured for',
    value: (s) => s.settings.bitrateKbps * 1000,
  },
  {
    name: 'mcu_mix_bitrate_bps',
    type: 'gauge',
    help: 'Bitrate of the mix of everyone (Opus, RTP), over the last 5 s',
    value: (s) => Math.round(s.mix.bitrateKbps * 1000),
  },
  {
    name: 'mcu_mix_silent_publishers',
    type: 'gauge',
    help: 'Publishers whose audio is not decoded now: they stamp it as silence (RFC 6464)',
    value: (s) => s.mix.silentPublishers,
  },
  {
    name: 'mcu_composite_frames_total',
    type: 'counter',
    help: 'Composite frames sent since the room was created',
    value: (s) => s.composite.frames,
  },
  sessionCounter('mcu_decoder_restarts_total', 'Participant decoders restarted after dying, in the current session', 'decoderRestarts'),
  sessionCounter('mcu_compositor_restarts_total', 'Compositors restarted after dying, in the current session', 'compositorRestarts'),
  sessionCounter('mcu_keyframe_requests_total', 'Keyframe requests (RTCP PLI) sent to publishers, in the current session', 'keyframeRequests'),
  sessionCounter('mcu_composite_keyframes_total', 'Composite keyframes made because a receiver (or a recording) asked, in the current session', 'compositeKeyframes'),
  {
    name: 'mcu_nacks_received_total',
    type: 'counter',
    help: 'RTCP NACKs received from participants about the composite and the mix',
    value: (s) => s.nacks.received,
  },
  {
    name: 'mcu_nacks_sent_total',
    type: 'counter',
    help: 'RTCP NACKs sent to participants about what they publish',
    value: (s) => s.nacks.sent,
  },
  {
    name: 'mcu_retransmissions_refused_total',
    type: 'counter',
    help: 'NACKed packets of the composite and the mix not sent again (at most twice each, within 30 % of the media)',
    value: (s) => s.nacks.refused,
  },
  { name: 'mcu_recording_active', type: 'gauge', help: '1 while the room is being recorded', value: (s) => Number(recordingActive(s)) },
  {
    name: 'mcu_recording_bytes',
    type: 'gauge',
    help: 'Size of the running recording file',
    value: (s) => (recordingActive(s) ? (s.recording?.bytes ?? 0) : 0),
  },
  {
    name: 'mcu_recording_seconds',
    type: 'gauge',
    help: 'Media in the running recording file',
    value: (s) => (recordingActive(s) ? (s.recording?.durationSeconds ?? 0) : 0),
  },
] satisfies RoomMetricDefinition[]);

/** The value of every per-room metric for one room. Pure. */
export function roomMetricValues(stats: RoomStats): Record<string, number> {
  const values: Record<string, number> = {};
  for (const metric of ROOM_METRICS) {
    const value = metric.value(stats);
    values[metric.name] = Number.isFinite(value) ? value : 0;
  }
  return values;
}

export interface ViewerMetricDefinition {
  name: string;
  help: string;
  /** Undefined: not known yet (no series). */
  value: (viewer: ViewerRungFigures) => number | undefined;
}

/** Per viewer of the VP8 composite, labelled `room` and `participant` (room.stats().viewers). */
export const VIEWER_METRICS: readonly ViewerMetricDefinition[] = Object.freeze([
  { name: 'mcu_viewer_rung', help: 'Rung of the composite’s ladder the viewer receives (0: the composite itself; the ladder’s length: audio only)', value: (v) => v.rung },
  { name: 'mcu_viewer_rung_height_pixels', help: 'Height of the rendition the viewer receives (0: audio only)', value: (v) => v.height },
  { name: 'mcu_viewer_estimate_bps', help: 'The viewer’s downlink as its browser estimates it (REMB)', value: (v) => v.estimateBps },
  { name: 'mcu_viewer_receiving_bps', help: 'What the server sends the viewer (video, mix, padding)', value: (v) => v.sendingBps },
  { name: 'mcu_viewer_loss_ratio', help: 'Fraction of packets the viewer lost, from its receiver reports', value: (v) => v.loss },
] satisfies ViewerMetricDefinition[]);

/** A viewer's rung switches, by direction: `mcu_viewer_rung_switches_total{direction}`. */
export const VIEWER_SWITCHES = 'mcu_viewer_rung_switches_total';

/** Every per-viewer series of these rooms: its labels and value. Pure. */
export function viewerMetricSamples(rooms: readonly RoomStats[]): { name: string; labels: Record<string, string>; value: number }[] {
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const stats of rooms) {
    for (const [participant, viewer] of Object.entries(stats.viewers)) {
      const labels = { room: stats.name, participant };
      for (const metric of VIEWER_METRICS) {
        const value = metric.value(viewer);
        if (value !== undefined && Number.isFinite(value)) samples.push({ name: metric.name, labels, value });
      }
      samples.push({ name: VIEWER_SWITCHES, labels: { ...labels, direction: 'up' }, value: viewer.switchesUp });
      samples.push({ name: VIEWER_SWITCHES, labels: { ...labels, direction: 'down' }, value: viewer.switchesDown });
    }
  }
  return samples;
}

export interface MetricsEndpoint {
  readonly contentType: string;
  /** The exposition text, from fresh room figures. */
  render(): Promise<string>;
}

/**
 * A registry of its own (not prom-client's global one: tests run several servers in a
 * process), with the per-room metrics, `mcu_rooms`, and Node's process metrics (CPU, memory,
 * event-loop delay: the figure werift's handshakes push up, README "How it is built").
 */
export function createMetrics(
  rooms: () => Promise<RoomStats[]>,
  options: { processMetrics?: boolean; refusals?: Refusals } = {},
): MetricsEndpoint {
  const registry = new Registry();
  const { refusals } = options;
  if (refusals) {
    new Counter({
      name: 'mcu_refusals_total',
      help: 'Requests refused by a token check or a limit, by error code and by where (socket or api)',
      labelNames: ['code', 'via'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { code, via, count } of refusals.entries()) this.inc({ code, via }, count);
      },
    });
  }
  let snapshot: RoomStats[] = [];
  new Gauge({
    name: 'mcu_rooms',
    help: 'Rooms on this server',
    registers: [registry],
    collect() {
      this.set(snapshot.length);
    },
  });
  for (const metric of ROOM_METRICS) {
    const set = (target: { reset(): void }, apply: (room: string, value: number) => void): void => {
      // Reset first: a room that is gone must not linger with its last figures.
      target.reset();
      for (const stats of snapshot) apply(stats.name, roomMetricValues(stats)[metric.name] ?? 0);
    };
    if (metric.type === 'gauge') {
      new Gauge({
        name: metric.name,
        help: metric.help,
        labelNames: ['room'],
        registers: [registry],
        collect() {
          set(this, (room, value) => this.set({ room }, value));
        },
      });
    } else {
      new Counter({
        name: metric.name,
        help: metric.help,
        labelNames: ['room'],
        registers: [registry],
        collect() {
          set(this, (room, value) => this.inc({ room }, value));
        },
      });
    }
  }
  const viewerSamples = (name: string) => viewerMetricSamples(snapshot).filter((sample) => sample.name === name);
  for (const metric of VIEWER_METRICS) {
    new Gauge({
      name: metric.name,
      help: metric.help,
      labelNames: ['room', 'participant'],
      registers: [registry],
      collect() {
        // Reset first: a viewer that left must not linger with its last figures.
        this.reset();
        for (const { labels, value } of viewerSamples(metric.name)) this.set(labels, value);
      },
    });
  }
  new Counter({
    name: VIEWER_SWITCHES,
    help: 'Times the viewer moved to a better rung (up) or a worse one (down), its own cap included',
    labelNames: ['room', 'participant', 'direction'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { labels, value } of viewerSamples(VIEWER_SWITCHES)) this.inc(labels, value);
    },
  });
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'mcu_' });
  // One scrape at a time: the metrics' collect() read the snapshot this scrape took.
  let chain: Promise<unknown> = Promise.resolve();
  return {
    contentType: registry.contentType,
    render() {
      const next = chain.then(async () => {
        snapshot = await rooms();
        return registry.metrics();
      });
      chain = next.catch(() => {});
      return next;
    },
  };
}
