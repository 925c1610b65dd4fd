// Summary of RTCPeerConnection.getStats() for the page: what a user (and a browser test)
// wants to see once a second. Rates come from the difference between two samples.

const DASH = '–';

/**
 * @typedef {object} StatsSummary
 * @property {number} timestamp            ms since epoch of the sample
 * @property {string} connectionState      pc.connectionState (or iceConnectionState)
 * @property {string} iceConnectionState
 * @property {{fps: number|null, width: number|null, height: number|null, framesDecoded: number|null,
 *   framesDropped: number|null, keyFramesDecoded: number|null, freezeCount: number|null,
 *   packetsLost: number|null, jitterMs: number|null, kbps: number|null, codec: string|null}} video
 * @property {{kbps: number|null, packetsLost: number|null, jitterMs: number|null, codec: string|null}} audio
 * @property {{kbps: number|null, audioKbps: number|null, videoKbps: number|null}} outbound
 * @property {number|null} rttMs
 * @property {string|null} route            e.g. "host udp 127.0.0.1:54321"
 */

export class StatsSampler {
  constructor() {
    /** @type {Map<string, {t: number, v: number}>} */
    this.prev = new Map();
  }

  /** @param {RTCPeerConnection} pc @returns {Promise<StatsSummary>} */
  async sample(pc) {
    const report = await pc.getStats();
    return this.summarize(report, pc);
  }

  /** @param {RTCStatsReport} report @param {RTCPeerConnection} pc */
  summarize(report, pc) {
    const next = new Map();
    /** per-second rate of a counter field of a stats object, from the previous sample */
    const rate = (r, field) => {
      const v = r[field];
      if (typeof v !== 'number') return null;
      const key = `${r.id}:${field}`;
      next.set(key, { t: r.timestamp, v });
      const p = this.prev.get(key);
      if (!p) return null;
      const dt = r.timestamp - p.t;
      if (!(dt > 0)) return null;
      return Math.max(0, ((v - p.v) * 1000) / dt);
    };
    const kbps = (r, field) => {
      const bytesPerSecond = rate(r, field);
      return bytesPerSecond == null ? null : (bytesPerSecond * 8) / 1000;
    };
    const codecOf = (r) => {
      const c = r && r.codecId ? report.get(r.codecId) : null;
      return c && c.mimeType ? String(c.mimeType).replace(/^(audio|video)\//i, '') : null;
    };
    const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

    let videoIn = /** @type {any} */ (null);
    let audioIn = /** @type {any} */ (null);
    const outbound = [];
    let transport = /** @type {any} */ (null);
    const pairs = [];
    report.forEach((r) => {
      const kind = r.kind || r.mediaType;
      if (r.type === 'inbound-rtp' && !r.isRemote) {
        if (kind === 'video' && (!videoIn || (r.bytesReceived || 0) > (videoIn.bytesReceived || 0))) videoIn = r;
        if (kind === 'audio' && (!audioIn || (r.bytesReceived || 0) > (audioIn.bytesReceived || 0))) audioIn = r;
      } else if (r.type === 'outbound-rtp' && !r.isRemote) {
        outbound.push(r);
      } else if (r.type === 'transport') {
        if (!transport || r.selectedCandidatePairId) transport = r;
      } else if (r.type === 'candidate-pair') {
        pairs.push(r);
      }
    });

    const video = {
      fps: null, width: null, height: null, framesDecoded: null, framesDropped: null,
      keyFramesDecoded: null, freezeCount: null, packetsLost: null, jitterMs: null, kbps: null, codec: null,
    };
    if (videoIn) {
      const decodeRate = rate(videoIn, 'framesDecoded');
      video.fps = num(videoIn.framesPerSecond) ?? decodeRate ?? (videoIn.framesDecoded ? null : 0);
      video.width = num(videoIn.frameWidth);
      video.height = num(videoIn.frameHeight);
      video.framesDecoded = num(videoIn.framesDecoded);
      video.framesDropped = num(videoIn.framesDropped);
      video.keyFramesDecoded = num(videoIn.keyFramesDecoded);
      video.freezeCount = num(videoIn.freezeCount);
      video.packetsLost = num(videoIn.packetsLost);
      video.jitterMs = num(videoIn.jitter) == null ? null : videoIn.jitter * 1000;
      video.kbps = kbps(videoIn, 'bytesReceived');
      video.codec = codecOf(videoIn);
    }

    const audio = { kbps: null, packetsLost: null, jitterMs: null, codec: null };
    if (audioIn) {
      audio.kbps = kbps(audioIn, 'bytesReceived');
      audio.packetsLost = num(audioIn.packetsLost);
      audio.jitterMs = num(audioIn.jitter) == null ? null : audioIn.jitter * 1000;
      audio.codec = codecOf(audioIn);
    }

    // Outbound: the sum over every sending RTP stream (0 when nothing is sent, e.g. a viewer).
    const out = { kbps: 0, audioKbps: 0, videoKbps: 0 };
    for (const r of outbound) {
      const k = kbps(r, 'bytesSent');
      if (k == null) {
        out.kbps = null;
        continue;
      }
      if (out.kbps != null) out.kbps += k;
      if ((r.kind || r.mediaType) === 'audio') out.audioKbps += k;
      else out.videoKbps += k;
    }

    // Selected candidate pair: round trip time and the route in use.
    let pair = transport && transport.selectedCandidatePairId ? report.get(transport.selectedCandidatePairId) : null;
    if (!pair) pair = pairs.find((p) => p.selected) || pairs.find((p) => p.nominated && p.state === 'succeeded') || null;
    let rttMs = null;
    let route = null;
    if (pair) {
      rttMs = num(pair.currentRoundTripTime) == null ? null : pair.currentRoundTripTime * 1000;
      const local = pair.localCandidateId ? report.get(pair.localCandidateId) : null;
      const remote = pair.remoteCandidateId ? report.get(pair.remoteCandidateId) : null;
      if (local) {
        const raddr = remote ? ` → ${remote.address || remote.ip || '?'}:${remote.port ?? '?'}` : '';
        route = `${local.candidateType || '?'} ${local.protocol || ''} ${local.address || local.ip || '?'}:${local.port ?? '?'}${raddr}`.replace(/\s+/g, ' ');
      }
    }

    this.prev = next;
    return {
      timestamp: Date.now(),
      connectionState: pc.connectionState || pc.iceConnectionState || 'new',
      iceConnectionState: pc.iceConnectionState || 'new',
      video,
      audio,
      outbound: out,
      rttMs,
      route,
    };
  }
}

function fmt(v, digits = 0) {
  if (v == null || !Number.isFinite(v)) return DASH;
  return digits ? v.toFixed(digits) : String(Math.round(v));
}

function put(doc, id, text, value) {
  const el = doc.getElementById(id);
  if (!el) return;
  if (el.textContent !== text) el.textContent = text;
  if (value == null) el.removeAttribute('data-value');
  else el.setAttribute('data-value', String(value));
}

/**
 * Writes a summary into the page. Every element's text is the bare value (units are outside
 * the element) and its `data-value` attribute is the raw number, absent when unknown.
 * @param {StatsSummary | null} s  null clears everything
 */
export function renderStats(s, doc = document) {
  if (!s) {
    for (const id of STAT_IDS) put(doc, id, DASH, null);
    return;
  }
  put(doc, 'stats-connection-state', s.connectionState, s.connectionState);
  put(doc, 'stats-ice-state', s.iceConnectionState, s.iceConnectionState);
  put(doc, 'stats-video-fps', fmt(s.video.fps, 1), s.video.fps);
  const res = s.video.width && s.video.height ? `${s.video.width}x${s.video.height}` : DASH;
  put(doc, 'stats-video-resolution', res, res === DASH ? null : res);
  put(doc, 'stats-video-frames-decoded', fmt(s.video.framesDecoded), s.video.framesDecoded);
  put(doc, 'stats-video-kbps', fmt(s.video.kbps), s.video.kbps);
  put(doc, 'stats-audio-kbps', fmt(s.audio.kbps), s.audio.kbps);
  put(doc, 'stats-outbound-kbps', fmt(s.outbound.kbps), s.outbound.kbps);
  put(doc, 'stats-video-packets-lost', fmt(s.video.packetsLost), s.video.packetsLost);
  put(doc, 'stats-audio-packets-lost', fmt(s.audio.packetsLost), s.audio.packetsLost);
  put(doc, 'stats-rtt', fmt(s.rttMs), s.rttMs);
  put(doc, 'stats-video-codec', s.video.codec || DASH, s.video.codec);
  put(doc, 'stats-audio-codec', s.audio.codec || DASH, s.audio.codec);
  put(doc, 'stats-route', s.route || DASH, s.route);
}

/** Shows a connection state at once, without waiting for the next sample. */
export function renderConnectionState(pc, doc = document) {
  const state = pc.connectionState || pc.iceConnectionState || 'new';
  put(doc, 'stats-connection-state', state, state);
  put(doc, 'stats-ice-state', pc.iceConnectionState || 'new', pc.iceConnectionState || 'new');
}

export const STAT_IDS = [
  'stats-connection-state', 'stats-ice-state', 'stats-video-fps', 'stats-video-resolution',
  'stats-video-frames-decoded', 'stats-video-kbps', 'stats-audio-kbps', 'stats-outbound-kbps',
  'stats-video-packets-lost', 'stats-audio-packets-lost', 'stats-rtt', 'stats-video-codec',
  'stats-audio-codec', 'stats-route',
];
