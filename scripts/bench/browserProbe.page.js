// A plain client page for measuring what a person in Chromium gets from the mixer. Injected into
// a page of the server's origin by scripts/bench/browserProbe.ts; speaks only the signaling
// protocol (README: Signaling) through the standard WebRTC API, as a client nobody on the team
// wrote would.
//
// A publisher sends a canvas picture carrying the wall-clock time as the timecode strip of
// mixer/logic/timecode.ts (40 blocks: white, black, 32 bits of ms, 6 bits of their count) and a
// 2 kHz beep at every multiple of BEEP_PERIOD_MS of the wall clock. Every client reads what it
// receives: the timecode of every tile box it is given, at the moment each composite frame is
// shown (requestVideoFrameCallback), the beeps in the mix it hears, and getStats() every second.
//
// window.mcuProbe = { start(options), summary() }: see browserProbe.ts for the types.
(() => {
  const BLOCKS = 40;
  const DATA_BITS = 32;
  const CHECK_BITS = 6;
  const MIN_CONTRAST = 48;
  const BEEP_HZ = 2000;
  const BEEP_PERIOD_MS = 2000;
  const BEEP_MS = 120;
  const STATS_MS = 1000;
  /** A beep is heard when the 2 kHz power of a block rises above this share of a full-scale tone. */
  const BEEP_THRESHOLD = 0.02;

  const probe = {
    marks: /** @type {Record<string, number>} */ ({}),
    /** @type {{at: number, box: number, ms: number, latency: number}[]} */ frames: [],
    /** Every composite frame shown: its display time (epoch ms). */
    /** @type {number[]} */ shown: [],
    /** @type {{at: number, latency: number}[]} */ beeps: [],
    /** @type {Record<string, unknown>[]} */ stats: [],
    /** @type {string[]} */ errors: [],
    /** Every `rung` message the server sent (our addition to the protocol), with when it came. */
    /** @type {Record<string, unknown>[]} */ rungs: [],
    /** @type {RTCPeerConnection | null} */ pc: null,
    /** @type {WebSocket | null} */ ws: null,
    id: /** @type {string | null} */ (null),
  };
  const epochNow = () => performance.timeOrigin + performance.now();
  const mark = (name) => {
    if (probe.marks[name] === undefined) probe.marks[name] = epochNow();
  };

  function popcount(n) {
    let c = 0;
    for (let v = n; v > 0; v = Math.floor(v / 2)) c += v % 2;
    return c;
  }

  function timecodeBits(ms) {
    const value = Math.floor(ms) % 2 ** 32;
    const bits = [1, 0];
    for (let i = DATA_BITS - 1; i >= 0; i--) bits.push(Math.floor(value / 2 ** i) % 2);
    const check = popcount(value);
    for (let i = CHECK_BITS - 1; i >= 0; i--) bits.push(Math.floor(check / 2 ** i) % 2);
    return bits;
  }

  function decodeBits(bits) {
    if (bits[0] !== 1 || bits[1] !== 0) return undefined;
    let value = 0;
    for (let i = 0; i < DATA_BITS; i++) value = value * 2 + bits[2 + i];
    let check = 0;
    for (let i = 0; i < CHECK_BITS; i++) check = check * 2 + bits[2 + DATA_BITS + i];
    return check === popcount(value) ? value : undefined;
  }

  /** Signed ms from a wrapped code to `later`. */
  function msSince(later, wrapped) {
    const m = 2 ** 32;
    const diff = (((Math.floor(later) - wrapped) % m) + m) % m;
    return diff >= m / 2 ? diff - m : diff;
  }

  /** A canvas track that draws `color` and the timecode of the moment each frame is drawn. */
  function timecodeTrack(width, height, fps, color) {
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d');
    const stream = canvas.captureStream(0);
    const track = stream.getVideoTracks()[0];
    const blockWidth = Math.floor(width / BLOCKS);
    const blockHeight = 2 * blockWidth;
    const draw = () => {
      ctx.fillStyle = color;
      ctx.fillRect(0, 0, width, height);
      const bits = timecodeBits(epochNow());
      for (let b = 0; b < BLOCKS; b++) {
        ctx.fillStyle = bits[b] ? '#ffffff' : '#000000';
        ctx.fillRect(b * blockWidth, 0, blockWidth, blockHeight);
      }
      track.requestFrame();
    };
    draw();
    setInterval(draw, 1000 / fps);
    return track;
  }

  /** Context time → epoch ms, from the audio clock's own timestamp pair. */
  function contextToEpoch(ctx) {
    const ts = ctx.getOutputTimestamp();
    return (contextTime) => performance.timeOrigin + ts.performanceTime + (contextTime - ts.contextTime) * 1000;
  }

  /** A microphone track that beeps at every multiple of BEEP_PERIOD_MS of the wall clock. */
  function beepTrack(ctx) {
    const osc = ctx.createOscillator();
    osc.frequency.value = BEEP_HZ;
    const gain = ctx.createGain();
    gain.gain.value = 0;
    const dest = ctx.createMediaStreamDestination();
    osc.connect(gain).connect(dest);
    osc.start();
    let scheduledUntil = 0;
    const schedule = () => {
      const toContext = (epochMs) => {
        const ts = ctx.getOutputTimestamp();
        return ts.contextTime + (epochMs - performance.timeOrigin - ts.performanceTime) / 1000;
      };
      const now = epochNow();
      for (let t = Math.ceil((now + 200) / BEEP_PERIOD_MS) * BEEP_PERIOD_MS; t < now + 3000; t += BEEP_PERIOD_MS) {
        if (t <= scheduledUntil) continue;
        const start = toContext(t);
        gain.gain.setValueAtTime(0.5, start);
        gain.gain.setValueAtTime(0, start + BEEP_MS / 1000);
        scheduledUntil = t;
      }
    };
    schedule();
    setInterval(schedule, 500);
    return dest.stream.getAudioTracks()[0];
  }

  /** Listens to the mix: each beep's onset, as the latency from the beep's wall-clock second. */
  function listenForBeeps(ctx, track) {
    // Chromium feeds a remote track into Web Audio only while a media element plays it.
    const element = new Audio();
    element.srcObject = new MediaStream([track]);
    element.muted = true;
    element.play().catch((e) => probe.errors.push(`audio play: ${e.message}`));
    const source = ctx.createMediaStreamSource(new MediaStream([track]));
    const node = ctx.createScriptProcessor(256, 1, 1);
    const rate = ctx.sampleRate;
    const coeff = 2 * Math.cos((2 * Math.PI * BEEP_HZ) / rate);
    let quietSince = -Infinity;
    let inBeep = false;
    node.onaudioprocess = (event) => {
      const samples = event.inputBuffer.getChannelData(0);
      let s1 = 0;
      let s2 = 0;
      for (let i = 0; i < samples.length; i++) {
        const s0 = samples[i] + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
      }
      const power = (s1 * s1 + s2 * s2 - coeff * s1 * s2) / ((samples.length * samples.length) / 4);
      // The block's first sample, on the output clock: when it is heard.
      const at = contextToEpoch(ctx)(event.playbackTime);
      if (power > BEEP_THRESHOLD) {
        if (!inBeep && at - quietSince > BEEP_PERIOD_MS / 2) {
          const beepAt = Math.floor(at / BEEP_PERIOD_MS) * BEEP_PERIOD_MS;
          probe.beeps.push({ at, latency: at - beepAt });
        }
        inBeep = true;
      } else {
        if (inBeep) quietSince = at;
        inBeep = false;
      }
    };
    source.connect(node).connect(ctx.destination);
  }

  /** Reads the timecode of every box in each composite frame, at the time it is displayed. */
  function watchComposite(track, boxes) {
    const video = document.createElement('video');
    video.muted = true;
    video.playsInline = true;
    video.srcObject = new MediaStream([track]);
    // Shown small: a person's window, not a second full-size copy for the page to paint.
    video.style.width = '320px';
    document.body.appendChild(video);
    video.play().catch((e) => probe.errors.push(`video play: ${e.message}`));
    // The frame is copied out once (each copy converts the whole picture), then one row of
    // pixels is read per box: the middle row of its strip.
    const canvas = document.createElement('canvas');
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const onFrame = (_now, meta) => {
      const at = performance.timeOrigin + meta.expectedDisplayTime;
      if (probe.shown.length === 0) probe.marks.firstFrame = at;
      probe.shown.push(at);
      const w = video.videoWidth;
      const h = video.videoHeight;
      // Every other frame is read: copying a 720p frame out costs the page as much as showing it.
      if (w > 0 && h > 0 && probe.shown.length % 2 === 1) {
        if (canvas.width !== w || canvas.height !== h) {
          canvas.width = w;
          canvas.height = h;
        }
        ctx.drawImage(video, 0, 0);
        const sx = w / 1280;
        const sy = h / 720;
        boxes.forEach((box, index) => {
          const x0 = Math.round(box.x * sx);
          const width = Math.min(w - x0, Math.round(box.width * sx));
          const y = Math.round((box.y + box.blockHeight / 2) * sy);
          if (width < BLOCKS || y >= h) return;
          const ms = readRow(ctx.getImageData(x0, y, width, 1).data, 0, width);
          if (ms !== undefined) probe.frames.push({ at, box: index, ms, latency: msSince(at, ms) });
        });
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }

  /** The code in one row of RGBA pixels `width` wide (a box's strip at composite scale), or undefined. */
  function readRow(pixels, offset, width) {
    const blockW = width / BLOCKS;
    const levels = [];
    for (let b = 0; b < BLOCKS; b++) {
      const i = offset + Math.min(width - 1, Math.floor((b + 0.5) * blockW)) * 4;
      levels.push(0.299 * pixels[i] + 0.587 * pixels[i + 1] + 0.114 * pixels[i + 2]);
    }
    const contrast = levels[0] - levels[1];
    if (contrast < MIN_CONTRAST) return undefined;
    const threshold = (levels[0] + levels[1]) / 2;
    return decodeBits(levels.map((l) => (l > threshold ? 1 : 0)));
  }

  async function sampleStats() {
    const pc = probe.pc;
    if (!pc) return;
    const report = await pc.getStats();
    const sample = { at: epochNow(), connectionState: pc.connectionState };
    report.forEach((r) => {
      if (r.type === 'inbound-rtp') {
        sample[`in_${r.kind}`] = {
          packetsReceived: r.packetsReceived,
          packetsLost: r.packetsLost,
          bytesReceived: r.bytesReceived,
          framesDecoded: r.framesDecoded,
          framesReceived: r.framesReceived,
          framesDropped: r.framesDropped,
          freezeCount: r.freezeCount,
          totalFreezesDuration: r.totalFreezesDuration,
          jitterBufferDelay: r.jitterBufferDelay,
          jitterBufferTargetDelay: r.jitterBufferTargetDelay,
          jitterBufferMinimumDelay: r.jitterBufferMinimumDelay,
          jitterBufferEmittedCount: r.jitterBufferEmittedCount,
          concealedSamples: r.concealedSamples,
          silentConcealedSamples: r.silentConcealedSamples,
          concealmentEvents: r.concealmentEvents,
          insertedSamplesForDeceleration: r.insertedSamplesForDeceleration,
          removedSamplesForAcceleration: r.removedSamplesForAcceleration,
          fecPacketsReceived: r.fecPacketsReceived,
          fecPacketsDiscarded: r.fecPacketsDiscarded,
          totalSamplesReceived: r.totalSamplesReceived,
          jitter: r.jitter,
          frameWidth: r.frameWidth,
          frameHeight: r.frameHeight,
        };
      } else if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') {
        sample.rttMs = (r.currentRoundTripTime ?? 0) * 1000;
        sample.localCandidateType = report.get(r.localCandidateId)?.candidateType;
      }
    });
    probe.stats.push(sample);
  }

  /**
   * Joins `room` as `name`; publishes a timecode picture and beeps when `publish` is set, and
   * reads the timecode in `boxes` of the composite (1280x720 coordinates).
   */
  async function start(options) {
    const { url, room, name, publish, color, boxes, size } = options;
    const audioCtx = new AudioContext({ latencyHint: 'interactive' });
    await audioCtx.resume();
    const ws = new WebSocket(url);
    probe.ws = ws;
    mark('socketCreated');
    const send = (m) => ws.send(JSON.stringify(m));
    const pending = [];
    let pc = null;
    ws.onopen = () => {
      mark('socketOpen');
      send({ type: 'join', room, name, ...(options.token ? { token: options.token } : {}) });
    };
    ws.onerror = () => probe.errors.push('socket error');
    ws.onclose = (e) => mark(`socketClosed_${e.code}`);
    ws.onmessage = async (event) => {
      const m = JSON.parse(event.data);
      if (m.type === 'joined') {
        mark('joined');
        probe.id = m.id;
        pc = new RTCPeerConnection({ iceServers: m.iceServers ?? [], iceTransportPolicy: options.iceTransportPolicy ?? 'all' });
        probe.pc = pc;
        pc.oniceconnectionstatechange = () => mark(`ice_${pc.iceConnectionState}`);
        pc.onconnectionstatechange = () => mark(`pc_${pc.connectionState}`);
        pc.onicecandidate = (e) => send({ type: 'candidate', candidate: e.candidate ? e.candidate.toJSON() : null });
        pc.ontrack = (e) => {
          mark(`track_${e.track.kind}`);
          if (e.track.kind === 'video') watchComposite(e.track, boxes);
          else if (options.listen !== false) listenForBeeps(audioCtx, e.track);
        };
        if (publish) {
          pc.addTransceiver(beepTrack(audioCtx), { direction: 'sendrecv' });
          pc.addTransceiver(timecodeTrack(size.width, size.height, 30, color), { direction: 'sendrecv' });
        } else {
          pc.addTransceiver('audio', { direction: 'recvonly' });
          pc.addTransceiver('video', { direction: 'recvonly' });
        }
        const offer = await pc.createOffer();
        await pc.setLocalDescription(offer);
        mark('offerSent');
        send({ type: 'offer', sdp: offer.sdp });
      } else if (m.type === 'answer') {
        mark('answer');
        await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
        for (const c of pending.splice(0)) await pc.addIceCandidate(c);
      } else if (m.type === 'candidate' && m.candidate) {
        if (pc && pc.remoteDescription) await pc.addIceCandidate(m.candidate);
        else pending.push(m.candidate);
      } else if (m.type === 'rung') {
        probe.rungs.push({ at: epochNow(), ...m });
      } else if (m.type === 'error') {
        probe.errors.push(`${m.code}: ${m.message}`);
      }
    };
    setInterval(() => void sampleStats().catch((e) => probe.errors.push(`stats: ${e.message}`)), STATS_MS);
  }

  function leave() {
    try {
      probe.ws?.send(JSON.stringify({ type: 'leave' }));
    } catch {
      // closed already
    }
    probe.pc?.close();
    probe.ws?.close();
  }

  /** Caps the rung received (our addition to the protocol): an index into `rung.rungs`, or null for none. */
  function cap(rung) {
    probe.ws?.send(JSON.stringify({ type: 'cap', rung }));
  }

  window.mcuProbe = {
    start,
    leave,
    cap,
    summary: () => ({
      id: probe.id,
      marks: probe.marks,
      frames: probe.frames,
      shown: probe.shown,
      beeps: probe.beeps,
      stats: probe.stats,
      errors: probe.errors,
      rungs: probe.rungs,
    }),
  };
})();
