// The conference page: join form, one RTCPeerConnection to the mixer, the composite video and
// the mixed audio, the participant list, live stats. Speaks only the signaling protocol.
//
// For browser tests:
//   window.mcu = { pc, state ('idle'|'joining'|'joined'|'left'|'error'), id, room, mode,
//                  participants, speaker, stats (latest summary, see stats.js), error, join(), leave() }
//   pc is the call's RTCPeerConnection (null until `joined`); after leaving or a failure it stays
//   the last one, closed, while id, participants and speaker are reset.
//   body[data-state] and #status[data-state] mirror mcu.state.
//   Form: #join-form #room #name #mode-camera #mode-microphone #mode-viewer #join,
//         #room-error #name-error; getUserMedia failure: #media-error #join-as-viewer #join-mic-only
//   Call: #composite (video) #mix (audio) #self-preview #unmute-audio #mute-mic #toggle-camera #leave
//         #participants > li[data-id][data-self][data-speaker]  #participant-count  #speaker
//   Errors: #error-banner[data-code] #error-message #error-code #error-dismiss
//   Stats (text = bare value, data-value = raw number): see the ids in index.html (#stats-*).
//   URL: ?room= (default "default", or the room of ?token=), ?name=, ?mode=camera|microphone|viewer,
//        ?token= (a join token, sent with `join`), ?autojoin=1
import { Signaling, socketUrl } from './signaling.js';
import { StatsSampler, renderStats, renderConnectionState } from './stats.js';

const ROOM_RE = /^[A-Za-z0-9_-]{1,64}$/;
const NAME_MAX = 64;
const MODES = ['camera', 'microphone', 'viewer'];
const LS_NAME = 'mcu.name';
const LS_MODE = 'mcu.mode';
const JOIN_TIMEOUT_MS = 10000;
const ANSWER_TIMEOUT_MS = 15000;
/** ICE that never gets anywhere (no usable candidate pair) stays "checking" for ever in Chrome. */
const CONNECT_TIMEOUT_MS = 25000;
const STATS_INTERVAL_MS = 1000;

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const el = {
  status: $('status'),
  banner: $('error-banner'),
  bannerMessage: $('error-message'),
  bannerCode: $('error-code'),
  bannerDismiss: $('error-dismiss'),
  joinView: $('join-view'),
  form: /** @type {HTMLFormElement} */ ($('join-form')),
  room: /** @type {HTMLInputElement} */ ($('room')),
  roomError: $('room-error'),
  name: /** @type {HTMLInputElement} */ ($('name')),
  nameError: $('name-error'),
  join: /** @type {HTMLButtonElement} */ ($('join')),
  mediaError: $('media-error'),
  mediaErrorMessage: $('media-error-message'),
  joinMicOnly: /** @type {HTMLButtonElement} */ ($('join-mic-only')),
  joinAsViewer: /** @type {HTMLButtonElement} */ ($('join-as-viewer')),
  callView: $('call-view'),
  roomName: $('room-name'),
  roomLink: /** @type {HTMLAnchorElement} */ ($('room-link')),
  composite: /** @type {HTMLVideoElement} */ ($('composite')),
  placeholder: $('composite-placeholder'),
  selfPreview: /** @type {HTMLVideoElement} */ ($('self-preview')),
  unmute: /** @type {HTMLButtonElement} */ ($('unmute-audio')),
  mix: /** @type {HTMLAudioElement} */ ($('mix')),
  muteMic: /** @type {HTMLButtonElement} */ ($('mute-mic')),
  toggleCamera: /** @type {HTMLButtonElement} */ ($('toggle-camera')),
  leave: /** @type {HTMLButtonElement} */ ($('leave')),
  participants: $('participants'),
  participantCount: $('participant-count'),
  speaker: $('speaker'),
};

const params = new URLSearchParams(window.location.search);

/**
 * For automated tests: the current peer connection and page state, plus a little more.
 * state: 'idle' | 'joining' | 'joined' | 'left' | 'error'
 */
const mcu = {
  /** @type {RTCPeerConnection | null} */ pc: null,
  state: 'idle',
  /** @type {string | null} this participant's id */ id: null,
  /** @type {string | null} */ room: null,
  /** @type {'camera'|'microphone'|'viewer'|null} */ mode: null,
  /** @type {{id: string, name: string}[]} */ participants: [],
  /** @type {string | null} active speaker id */ speaker: null,
  /** @type {import('./stats.js').StatsSummary | null} latest stats sample */ stats: null,
  /** @type {{code: string|null, message: string} | null} last error shown */ error: null,
  join: (opts) => join(opts),
  leave: () => leave(),
};
/** @type {any} */ (window).mcu = mcu;

/** The current call; every async continuation checks it is still current. */
let session = null;

// ---------------------------------------------------------------------------------------------
// Small UI helpers

function setState(state) {
  mcu.state = state;
  document.body.dataset.state = state;
  el.status.dataset.state = state;
}

/** @param {'idle'|'busy'|'ok'|'warn'|'error'} tone */
function setStatus(tone, text) {
  el.status.textContent = text;
  el.status.dataset.tone = tone;
}

function showError(message, code = null) {
  mcu.error = { code: code || null, message };
  el.bannerMessage.textContent = message;
  el.bannerCode.textContent = code || '';
  el.bannerCode.hidden = !code;
  if (code) el.banner.dataset.code = code;
  else delete el.banner.dataset.code;
  el.banner.hidden = false;
}

function hideError() {
  el.banner.hidden = true;
  el.bannerMessage.textContent = '';
  el.bannerCode.textContent = '';
  el.bannerCode.hidden = true;
  delete el.banner.dataset.code;
}

function showJoinView() {
  el.callView.hidden = true;
  el.joinView.hidden = false;
  setFormBusy(false);
}

function showCallView() {
  el.joinView.hidden = true;
  el.callView.hidden = false;
}

function setFormBusy(busy) {
  el.join.disabled = busy;
  el.joinAsViewer.disabled = busy;
  el.joinMicOnly.disabled = busy;
  el.join.textContent = busy ? 'Joining…' : 'Join';
}

function storageGet(key) {
  try { return window.localStorage.getItem(key); } catch { return null; }
}
function storageSet(key, value) {
  try { window.localStorage.setItem(key, value); } catch { /* private mode etc. */ }
}

function selectedMode() {
  const checked = /** @type {HTMLInputElement|null} */ (el.form.querySelector('input[name="mode"]:checked'));
  return checked && MODES.includes(checked.value) ? checked.value : 'camera';
}

function setMode(mode) {
  const input = /** @type {HTMLInputElement|null} */ (document.getElementById(`mode-${mode}`));
  if (input) input.checked = true;
}

function roomUrl(room) {
  const url = new URL(window.location.href);
  url.searchParams.set('room', room);
  for (const p of ['autojoin', 'name', 'mode']) url.searchParams.delete(p);
  url.hash = '';
  return url.toString();
}

// ---------------------------------------------------------------------------------------------
// Form

function validateRoom(room) {
  if (!room) return 'Enter a room name.';
  if (room.length > 64) return 'The room name is at most 64 characters.';
  if (!ROOM_RE.test(room)) return 'Use only letters, digits, “-” and “_” in the room name.';
  return null;
}

function validateName(name) {
  if (!name) return 'Enter your name.';
  if (name.length > NAME_MAX) return `Your name is at most ${NAME_MAX} characters.`;
  return null;
}

function showFieldError(input, errorEl, message) {
  errorEl.textContent = message || '';
  errorEl.hidden = !message;
  if (message) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

/** Reads and validates the form; returns the join options or null (errors shown). */
function readForm() {
  const room = el.room.value.trim();
  const name = el.name.value.trim();
  const roomErr = validateRoom(room);
  const nameErr = validateName(name);
  showFieldError(el.room, el.roomError, roomErr);
  showFieldError(el.name, el.nameError, nameErr);
  if (roomErr) { el.room.focus(); return null; }
  if (nameErr) { el.name.focus(); return null; }
  return { room, name, mode: /** @type {'camera'|'microphone'|'viewer'} */ (selectedMode()) };
}

/** The room and the name a join token carries (its payload, unverified: the server checks it). */
function tokenClaims(token) {
  try {
    const bytes = Uint8Array.from(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    const payload = JSON.parse(new TextDecoder().decode(bytes));
    return {
      room: payload && payload.video && typeof payload.video.room === 'string' ? payload.video.room : null,
      name: payload && typeof payload.name === 'string' ? payload.name : null,
    };
  } catch { return { room: null, name: null }; }
}

function initForm() {
  // A token is for one room, and may carry the name the server will use: the form starts with them.
  const claims = tokenClaims(params.get('token') || '');
  const room = params.get('room') || claims.room;
  el.room.value = room != null && room !== '' ? room : 'default';
  el.name.value = params.get('name') ?? claims.name ?? storageGet(LS_NAME) ?? '';
  const mode = params.get('mode') ?? storageGet(LS_MODE);
  if (mode && MODES.includes(mode)) setMode(mode);

  el.room.addEventListener('input', () => {
    if (el.room.hasAttribute('aria-invalid')) showFieldError(el.room, el.roomError, validateRoom(el.room.value.trim()));
  });
  el.name.addEventListener('input', () => {
    if (el.name.hasAttribute('aria-invalid')) showFieldError(el.name, el.nameError, validateName(el.name.value.trim()));
  });
  el.form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const opts = readForm();
    if (opts) join(opts);
  });
  el.joinAsViewer.addEventListener('click', () => {
    setMode('viewer');
    const opts = readForm();
    if (opts) join(opts);
  });
  el.joinMicOnly.addEventListener('click', () => {
    setMode('microphone');
    const opts = readForm();
    if (opts) join(opts);
  });
  el.bannerDismiss.addEventListener('click', hideError);
  el.leave.addEventListener('click', () => leave());
  el.muteMic.addEventListener('click', toggleMic);
  el.toggleCamera.addEventListener('click', toggleCamera);
  el.unmute.addEventListener('click', () => playRemote(true));
  el.roomLink.addEventListener('click', (ev) => {
    // Copy the link when possible; otherwise the link simply works as a link.
    if (navigator.clipboard && window.isSecureContext) {
      ev.preventDefault();
      navigator.clipboard.writeText(el.roomLink.href).then(
        () => { el.roomLink.textContent = 'Link copied'; setTimeout(() => { el.roomLink.textContent = 'Link to this room'; }, 2000); },
        () => { window.location.href = el.roomLink.href; },
      );
    }
  });

  el.composite.addEventListener('resize', updatePlaceholder);
  el.composite.addEventListener('loadeddata', updatePlaceholder);
  el.composite.addEventListener('playing', updatePlaceholder);
  el.mix.addEventListener('playing', () => { el.unmute.hidden = true; });

  window.addEventListener('pagehide', () => {
    if (session) teardown(session, { sendLeave: !!session.id });
  });
  window.addEventListener('pageshow', (ev) => {
    // Restored from the back/forward cache after pagehide ended the call.
    if (ev.persisted && !session && (mcu.state === 'joining' || mcu.state === 'joined')) {
      setState('left');
      setStatus('idle', 'You left the room.');
      showJoinView();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Local media

function describeMediaError(err, mode) {
  const what = mode === 'camera' ? 'camera and microphone' : 'microphone';
  const name = err && err.name;
  if (name === 'NotAllowedError' || name === 'PermissionDeniedError' || name === 'SecurityError') {
    return `Access to your ${what} was denied. Allow it in the browser’s site settings, or join as a viewer.`;
  }
  if (name === 'NotFoundError' || name === 'DevicesNotFoundError' || name === 'OverconstrainedError') {
    return mode === 'camera'
      ? 'No camera or microphone was found. You can join with the microphone only, or as a viewer.'
      : 'No microphone was found. You can join as a viewer.';
  }
  if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') {
    return `Your ${what} could not be started (another application may be using it). You can join as a viewer.`;
  }
  if (name === 'InsecureContext') {
    return `The browser only allows the ${what} on https:// pages or on localhost. You can join as a viewer.`;
  }
  return `Could not use your ${what}${err && err.message ? `: ${err.message}` : ''}. You can join as a viewer.`;
}

async function getLocalMedia(mode) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    const e = new Error('getUserMedia is not available');
    e.name = window.isSecureContext ? 'NotSupportedError' : 'InsecureContext';
    throw e;
  }
  const audio = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
  if (mode === 'microphone') return navigator.mediaDevices.getUserMedia({ audio, video: false });
  return navigator.mediaDevices.getUserMedia({
    audio,
    video: { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 30 } },
  });
}

function stopStream(stream) {
  if (!stream) return;
  for (const t of stream.getTracks()) t.stop();
}

function showMediaError(err, mode) {
  el.mediaErrorMessage.textContent = describeMediaError(err, mode);
  el.joinMicOnly.hidden = mode !== 'camera';
  el.mediaError.hidden = false;
}

function hideMediaError() {
  el.mediaError.hidden = true;
  el.mediaErrorMessage.textContent = '';
}

// ---------------------------------------------------------------------------------------------
// Remote media (composite video + mixed audio)

/**
 * Called synchronously inside the join click: a play() started during a user gesture lets
 * this element play sound later (Safari needs that; Chrome remembers the gesture anyway).
 */
function unlockAudio() {
  try {
    if (!el.mix.srcObject) el.mix.srcObject = new MediaStream();
    const p = el.mix.play();
    if (p) p.catch(() => {});
  } catch { /* ignore */ }
}

function attachRemote(s) {
  if (s !== session || !s.pc) return;
  const videoTrack = s.videoTx && s.videoTx.receiver.track;
  const audioTrack = s.audioTx && s.audioTx.receiver.track;
  const current = (media) => (media.srcObject instanceof MediaStream ? media.srcObject.getTracks()[0] : null);
  if (videoTrack && current(el.composite) !== videoTrack) el.composite.srcObject = new MediaStream([videoTrack]);
  if (audioTrack && current(el.mix) !== audioTrack) el.mix.srcObject = new MediaStream([audioTrack]);
  playRemote(false);
}

/** Plays the composite (always muted; sound comes from #mix) and the mix. */
function playRemote(fromClick) {
  const v = el.composite.play();
  if (v) v.catch(() => {});
  const a = el.mix.play();
  if (!a) return;
  a.then(() => { el.unmute.hidden = true; }).catch((err) => {
    if (err && err.name === 'NotAllowedError') {
      el.unmute.hidden = false;
      if (fromClick) setStatus('warn', 'The browser still blocks sound; click the page and try again.');
    }
  });
}

function updatePlaceholder() {
  const hasVideo = el.composite.videoWidth > 0 && el.composite.videoHeight > 0;
  el.placeholder.hidden = hasVideo;
}

function clearRemote() {
  for (const m of [el.composite, el.mix, el.selfPreview]) {
    try { m.pause(); } catch { /* ignore */ }
    m.srcObject = null;
  }
  el.selfPreview.hidden = true;
  el.unmute.hidden = true;
  el.placeholder.hidden = false;
  el.placeholder.textContent = 'Waiting for video…';
}

// ---------------------------------------------------------------------------------------------
// Participants

function renderParticipants(s) {
  const list = s.participants.slice();
  if (s.id && !list.some((p) => p.id === s.id)) list.unshift({ id: s.id, name: s.name });
  mcu.participants = list;
  mcu.speaker = s.speakerId;

  const items = list.map((p) => {
    const li = document.createElement('li');
    li.dataset.id = p.id;
    const self = p.id === s.id;
    const speaking = s.speakerId != null && p.id === s.speakerId;
    if (self) { li.dataset.self = 'true'; li.classList.add('self'); }
    if (speaking) { li.dataset.speaker = 'true'; li.classList.add('speaking'); }
    const dot = document.createElement('span');
    dot.className = 'dot';
    dot.setAttribute('aria-hidden', 'true');
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = p.name;
    li.append(dot, name);
    if (self) {
      const you = document.createElement('span');
      you.className = 'badge you';
      you.textContent = 'you';
      li.append(you);
    }
    if (speaking) {
      const sp = document.createElement('span');
      sp.className = 'badge speaking-badge';
      sp.textContent = 'speaking';
      li.append(sp);
    }
    return li;
  });
  el.participants.replaceChildren(...items);
  el.participantCount.textContent = String(list.length);
  const speaker = list.find((p) => p.id === s.speakerId);
  el.speaker.textContent = speaker ? (speaker.id === s.id ? `${speaker.name} (you)` : speaker.name) : '–';
  if (speaker) el.speaker.dataset.id = speaker.id;
  else delete el.speaker.dataset.id;
}

function sanitizeParticipants(value) {
  if (!Array.isArray(value)) return null;
  return value
    .filter((p) => p && typeof p === 'object' && p.id != null)
    .map((p) => ({ id: String(p.id), name: typeof p.name === 'string' ? p.name : String(p.id) }));
}

// ---------------------------------------------------------------------------------------------
// Controls

function localTrack(kind) {
  const s = session;
  if (!s || !s.stream) return null;
  return (kind === 'audio' ? s.stream.getAudioTracks() : s.stream.getVideoTracks())[0] || null;
}

function updateControls() {
  const mic = localTrack('audio');
  const cam = localTrack('video');
  el.muteMic.disabled = !mic;
  el.toggleCamera.disabled = !cam;
  const micMuted = !!mic && !mic.enabled;
  const camOff = !!cam && !cam.enabled;
  el.muteMic.setAttribute('aria-pressed', String(micMuted));
  el.muteMic.textContent = !mic ? 'No microphone' : micMuted ? 'Unmute mic' : 'Mute mic';
  el.toggleCamera.setAttribute('aria-pressed', String(camOff));
  el.toggleCamera.textContent = !cam ? 'No camera' : camOff ? 'Turn camera on' : 'Turn camera off';
  el.selfPreview.classList.toggle('off', camOff);
}

function toggleMic() {
  const t = localTrack('audio');
  if (!t) return;
  t.enabled = !t.enabled;
  updateControls();
}

function toggleCamera() {
  const t = localTrack('video');
  if (!t) return;
  t.enabled = !t.enabled;
  updateControls();
}

// ---------------------------------------------------------------------------------------------
// The call

/**
 * Joins a room. Must be called from a user gesture (the join click) for sound to start without
 * an extra click; otherwise a "turn on sound" button appears.
 * @param {{room: string, name: string, mode?: 'camera'|'microphone'|'viewer', token?: string}} opts
 */
async function join(opts) {
  if (session) return;
  const room = String(opts && opts.room || '').trim();
  const name = String(opts && opts.name || '').trim();
  const mode = opts && MODES.includes(opts.mode) ? opts.mode : 'camera';
  const token = (opts && opts.token) || params.get('token') || undefined;
  const roomErr = validateRoom(room);
  const nameErr = validateName(name);
  if (roomErr || nameErr) {
    showError(roomErr || nameErr, 'bad_request');
    return;
  }

  const s = {
    room, name, mode, token,
    /** @type {Signaling|null} */ sig: null,
    /** @type {RTCPeerConnection|null} */ pc: null,
    /** @type {MediaStream|null} */ stream: null,
    /** @type {RTCRtpTransceiver|null} */ audioTx: null,
    /** @type {RTCRtpTransceiver|null} */ videoTx: null,
    /** @type {string|null} */ id: null,
    participants: [],
    /** @type {string|null} */ speakerId: null,
    offerSent: false,
    endOfCandidatesSent: false,
    everConnected: false,
    remoteDescriptionSet: false,
    pendingLocal: [],
    pendingRemote: [],
    /** @type {{code: string|null, message: string}|null} */ serverError: null,
    timers: new Set(),
    statsTimer: 0,
    sampler: new StatsSampler(),
  };
  session = s;
  mcu.pc = null;
  mcu.id = null;
  mcu.room = room;
  mcu.mode = mode;
  mcu.error = null;
  mcu.participants = [];
  mcu.speaker = null;
  mcu.stats = null;
  setState('joining');
  hideError();
  hideMediaError();
  setFormBusy(true);
  unlockAudio(); // still inside the click: nothing has been awaited yet
  storageSet(LS_NAME, name);
  storageSet(LS_MODE, mode);

  // 1. Camera / microphone first, so a refusal never leaves a half-joined participant behind.
  if (mode !== 'viewer') {
    setStatus('busy', mode === 'camera' ? 'Waiting for camera and microphone…' : 'Waiting for microphone…');
    try {
      s.stream = await getLocalMedia(mode);
    } catch (err) {
      if (s !== session) return;
      session = null;
      setFormBusy(false);
      setState('error');
      mcu.error = { code: err && err.name || null, message: describeMediaError(err, mode) };
      setStatus('error', mode === 'camera' ? 'Camera or microphone unavailable' : 'Microphone unavailable');
      showMediaError(err, mode);
      el.joinAsViewer.focus();
      return;
    }
    if (s !== session) { stopStream(s.stream); return; }
    for (const t of s.stream.getTracks()) {
      t.addEventListener('ended', () => {
        if (s !== session) return;
        showError(`Your ${t.kind === 'audio' ? 'microphone' : 'camera'} stopped (was it unplugged?).`, 'device_ended');
        updateControls();
      });
    }
  }

  // 2. The page switches to the call view; local preview right away.
  el.roomName.textContent = room;
  el.roomLink.href = roomUrl(room);
  el.participants.replaceChildren();
  el.participantCount.textContent = '0';
  el.speaker.textContent = '–';
  renderStats(null);
  const cam = s.stream && s.stream.getVideoTracks()[0];
  if (cam) {
    el.selfPreview.srcObject = new MediaStream([cam]);
    el.selfPreview.hidden = false;
    const p = el.selfPreview.play();
    if (p) p.catch(() => {});
  }
  updateControls();
  showCallView();
  try { window.history.replaceState(null, '', roomUrl(room)); } catch { /* ignore */ }

  // 3. Signaling.
  setStatus('busy', 'Connecting to the server…');
  s.sig = new Signaling(socketUrl());
  s.sig.addEventListener('message', (ev) => onMessage(s, /** @type {CustomEvent} */ (ev).detail));
  s.sig.addEventListener('close', (ev) => onSocketClose(s, /** @type {CustomEvent} */ (ev).detail));
  try {
    await s.sig.open();
  } catch (err) {
    fail(s, `Could not connect to the server: ${err && err.message ? err.message : err}`, 'connection_failed');
    return;
  }
  if (s !== session) return;
  setStatus('busy', `Joining room ${room}…`);
  const msg = { type: 'join', room, name };
  if (token) msg.token = token;
  s.sig.send(msg);
  later(s, JOIN_TIMEOUT_MS, () => {
    if (!s.id) fail(s, 'The server did not answer the join request.', 'timeout');
  });
}

function later(s, ms, fn) {
  const t = setTimeout(() => { s.timers.delete(t); if (s === session) fn(); }, ms);
  s.timers.add(t);
}

function onMessage(s, msg) {
  if (s !== session) return;
  switch (msg.type) {
    case 'joined':
      onJoined(s, msg);
      break;
    case 'answer':
      onAnswer(s, msg);
      break;
    case 'candidate':
      onRemoteCandidate(s, msg.candidate);
      break;
    case 'participants': {
      const list = sanitizeParticipants(msg.participants);
      if (list) { s.participants = list; renderParticipants(s); }
      break;
    }
    case 'speaker':
      s.speakerId = msg.id == null ? null : String(msg.id);
      renderParticipants(s);
      break;
    case 'error': {
      const code = typeof msg.code === 'string' ? msg.code : null;
      const message = typeof msg.message === 'string' && msg.message ? msg.message : 'The server refused a request.';
      s.serverError = { code, message };
      // Before `joined` the join itself was refused: back to the form. Afterwards the
      // connection stays open (the signaling protocol), so the error is shown and the call goes on.
      if (!s.id || code === 'unauthorized') fail(s, message, code);
      else showError(message, code);
      break;
    }
    default:
      // Messages added to the protocol later are ignored.
      break;
  }
}

function onJoined(s, msg) {
  if (s.id) return; // a duplicate
  s.id = msg.id == null ? '' : String(msg.id);
  if (typeof msg.room === 'string' && msg.room) {
    mcu.room = msg.room;
    el.roomName.textContent = msg.room;
  }
  mcu.id = s.id;
  s.participants = sanitizeParticipants(msg.participants) || [];
  renderParticipants(s);
  setState('joined');
  setStatus('busy', 'Joined; connecting media…');
  startPeer(s, Array.isArray(msg.iceServers) ? msg.iceServers : []).catch((err) => {
    fail(s, `Could not set up the media connection: ${err && err.message ? err.message : err}`, 'webrtc_error');
  });
}

async function startPeer(s, iceServers) {
  if (typeof RTCPeerConnection !== 'function') throw new Error('this browser has no WebRTC');
  const pc = new RTCPeerConnection({ iceServers });
  s.pc = pc;
  mcu.pc = pc;

  pc.addEventListener('icecandidate', (ev) => {
    if (s !== session) return;
    const c = ev.candidate && ev.candidate.candidate ? ev.candidate.toJSON() : null;
    if (c === null) {
      if (s.endOfCandidatesSent) return; // some browsers signal the end twice
      s.endOfCandidatesSent = true;
    }
    sendCandidate(s, c);
  });
  pc.addEventListener('connectionstatechange', () => onConnectionState(s));
  pc.addEventListener('iceconnectionstatechange', () => onConnectionState(s));
  pc.addEventListener('track', () => attachRemote(s));

  // Exactly two transceivers, audio first, then video (the signaling protocol's flow, step 3).
  const mic = s.stream ? s.stream.getAudioTracks()[0] : null;
  const cam = s.stream ? s.stream.getVideoTracks()[0] : null;
  s.audioTx = mic
    ? pc.addTransceiver(mic, { direction: 'sendrecv' })
    : pc.addTransceiver('audio', { direction: 'recvonly' });
  s.videoTx = cam
    ? pc.addTransceiver(cam, { direction: 'sendrecv' })
    : pc.addTransceiver('video', { direction: 'recvonly' });
  attachRemote(s);

  const offer = await pc.createOffer();
  if (s !== session) return;
  await pc.setLocalDescription(offer);
  if (s !== session) return;
  s.sig.send({ type: 'offer', sdp: offer.sdp });
  s.offerSent = true;
  for (const c of s.pendingLocal.splice(0)) s.sig.send({ type: 'candidate', candidate: c });
  later(s, ANSWER_TIMEOUT_MS, () => {
    if (!s.remoteDescriptionSet) fail(s, 'The server did not answer the offer.', 'timeout');
  });
  later(s, CONNECT_TIMEOUT_MS, () => {
    if (!s.everConnected) {
      fail(s, 'The media connection could not be established (ICE found no working route to the server).', 'ice_failed');
    }
  });

  startStats(s);
}

function sendCandidate(s, candidate) {
  if (!s.offerSent) { s.pendingLocal.push(candidate); return; }
  s.sig.send({ type: 'candidate', candidate });
}

async function onAnswer(s, msg) {
  if (!s.pc || typeof msg.sdp !== 'string') return;
  if (s.pc.signalingState !== 'have-local-offer') return; // not expecting an answer
  try {
    await s.pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
  } catch (err) {
    fail(s, `The server’s answer was not accepted: ${err && err.message ? err.message : err}`, 'webrtc_error');
    return;
  }
  if (s !== session) return;
  s.remoteDescriptionSet = true;
  for (const c of s.pendingRemote.splice(0)) addRemoteCandidate(s, c);
}

function onRemoteCandidate(s, candidate) {
  if (!s.pc || !s.remoteDescriptionSet) { s.pendingRemote.push(candidate ?? null); return; }
  addRemoteCandidate(s, candidate ?? null);
}

async function addRemoteCandidate(s, candidate) {
  if (s !== session || !s.pc) return;
  try {
    if (candidate == null || (typeof candidate === 'object' && !candidate.candidate)) {
      await s.pc.addIceCandidate(); // end of candidates
    } else {
      await s.pc.addIceCandidate(candidate);
    }
  } catch (err) {
    // A candidate the browser cannot use is not fatal; ICE goes on with the others.
    console.debug('addIceCandidate:', err && err.message ? err.message : err);
  }
}

function onConnectionState(s) {
  if (s !== session || !s.pc) return;
  const pc = s.pc;
  renderConnectionState(pc);
  const state = pc.connectionState || pc.iceConnectionState;
  if (state === 'connected' || state === 'completed') {
    s.everConnected = true;
    setStatus('ok', `Connected to room ${mcu.room || s.room}`);
  } else if (state === 'disconnected') {
    setStatus('warn', 'Connection interrupted; trying to recover…');
  } else if (state === 'failed' || pc.iceConnectionState === 'failed') {
    fail(s, 'The media connection failed (ICE could not connect). Check your network and try again.', 'ice_failed');
  } else if (state === 'closed') {
    fail(s, 'The media connection was closed.', 'closed');
  }
}

function onSocketClose(s, detail) {
  if (s !== session) return;
  const reason = detail && detail.reason ? `: ${detail.reason}` : '';
  const code = detail && detail.code ? ` (code ${detail.code})` : '';
  fail(s, `The connection to the server closed${reason}${code}.`, 'socket_closed');
}

function startStats(s) {
  const tick = async () => {
    if (s !== session || !s.pc) return;
    try {
      const summary = await s.sampler.sample(s.pc);
      if (s !== session) return;
      mcu.stats = summary;
      renderStats(summary);
    } catch (err) {
      console.debug('getStats:', err && err.message ? err.message : err);
    }
  };
  tick();
  s.statsTimer = window.setInterval(tick, STATS_INTERVAL_MS);
}

/** Ends the call's resources. Safe to call more than once. */
function teardown(s, { sendLeave }) {
  if (session === s) {
    session = null;
    mcu.id = null;
    mcu.participants = [];
    mcu.speaker = null;
  }
  for (const t of s.timers) clearTimeout(t);
  s.timers.clear();
  if (s.statsTimer) clearInterval(s.statsTimer);
  s.statsTimer = 0;
  if (s.sig) {
    if (sendLeave) s.sig.send({ type: 'leave' });
    s.sig.close(1000, 'leave');
  }
  if (s.pc) {
    try { s.pc.close(); } catch { /* ignore */ }
  }
  stopStream(s.stream);
  clearRemote();
  updateControls();
}

/** A call that cannot go on: back to the form, say why. */
function fail(s, message, code = null) {
  if (s !== session) return;
  teardown(s, { sendLeave: !!s.id });
  setState('error');
  // A refusal from the server is usually followed by the socket closing: keep its message.
  const shown = s.serverError || { code, message };
  showError(shown.message, shown.code);
  setStatus('error', s.serverError && shown.message !== message ? `Disconnected: ${shown.message}` : message);
  showJoinView();
}

/** The user leaves: tell the server, release everything, back to the form. */
function leave() {
  const s = session;
  if (!s) return;
  teardown(s, { sendLeave: true });
  setState('left');
  setStatus('idle', 'You left the room.');
  showJoinView();
  el.join.focus();
}

// ---------------------------------------------------------------------------------------------

initForm();
setState('idle');
setStatus('idle', 'Not connected');
if (['1', 'true', 'yes'].includes((params.get('autojoin') || '').toLowerCase())) {
  // ?autojoin=1 (with ?name=, ?mode=) joins without a click, after the page has loaded: media
  // elements waiting for data would otherwise hold back the load event. Without a user gesture
  // the browser may block sound; the "turn on sound" button appears then.
  const autojoin = () => {
    const opts = readForm();
    if (opts) join(opts);
  };
  if (document.readyState === 'complete') autojoin();
  else window.addEventListener('load', autojoin, { once: true });
}
