// The call: joining a room (media first, then signaling), the server's messages, and the end
// of the call, asked for (leave) or not (fail).
import { Signaling, socketUrl } from './signaling.js';
import { StatsSampler, renderStats } from './stats.js';
import { rememberJoin, validateName, validateRoom } from './form.js';
import { describeMediaError, getLocalMedia, hideMediaError, showMediaError, stopStream, updateControls } from './localMedia.js';
import {
  calls, el, hideError, later, mcu, MODES, params, roomUrl, setFormBusy, setState, setStatus, showCallView, showError, showJoinView,
} from './page.js';
import { renderParticipants, sanitizeParticipants } from './participants.js';
import { onAnswer, onRemoteCandidate, startPeer } from './peer.js';
import { clearRemote, unlockAudio } from './remoteMedia.js';
import { clearRung, onRung } from './rung.js';

const JOIN_TIMEOUT_MS = 10000;

/**
 * Joins a room. Must be called from a user gesture (the join click) for sound to start without
 * an extra click; otherwise a "turn on sound" button appears.
 * @param {{room: string, name: string, mode?: 'camera'|'microphone'|'viewer', token?: string}} opts
 */
export async function join(opts) {
  if (calls.current) return;
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
    /** @type {{cap: number, at: number}|null} the viewer's last data-saver choice */ capSent: null,
    fail: (message, code = null) => fail(s, message, code),
  };
  calls.current = s;
  mcu.pc = null;
  mcu.id = null;
  mcu.room = room;
  mcu.mode = mode;
  mcu.error = null;
  mcu.participants = [];
  mcu.speaker = null;
  mcu.stats = null;
  clearRung();
  setState('joining');
  hideError();
  hideMediaError();
  setFormBusy(true);
  unlockAudio(); // still inside the click: nothing has been awaited yet
  rememberJoin(name, mode);

  // 1. Camera / microphone first, so a refusal never leaves a half-joined participant behind.
  if (mode !== 'viewer') {
    setStatus('busy', mode === 'camera' ? 'Waiting for camera and microphone…' : 'Waiting for microphone…');
    try {
      s.stream = await getLocalMedia(mode);
    } catch (err) {
      if (s !== calls.current) return;
      calls.current = null;
      setFormBusy(false);
      setState('error');
      mcu.error = { code: err && err.name || null, message: describeMediaError(err, mode) };
      setStatus('error', mode === 'camera' ? 'Camera or microphone unavailable' : 'Microphone unavailable');
      showMediaError(err, mode);
      el.joinAsViewer.focus();
      return;
    }
    if (s !== calls.current) { stopStream(s.stream); return; }
    for (const t of s.stream.getTracks()) {
      t.addEventListener('ended', () => {
        if (s !== calls.current) return;
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
  if (s !== calls.current) return;
  setStatus('busy', `Joining room ${room}…`);
  const msg = { type: 'join', room, name };
  if (token) msg.token = token;
  s.sig.send(msg);
  later(s, JOIN_TIMEOUT_MS, () => {
    if (!s.id) fail(s, 'The server did not answer the join request.', 'timeout');
  });
}

function onMessage(s, msg) {
  if (s !== calls.current) return;
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
    case 'rung':
      onRung(s, msg);
      break;
    case 'error': {
      const code = typeof msg.code === 'string' ? msg.code : null;
      const message = typeof msg.message === 'string' && msg.message ? msg.message : 'The server refused a request.';
      s.serverError = { code, message };
      // Before `joined` the join itself was refused: back to the form. Afterwards the
      // connection stays open (README, "Signaling"), so the error is shown and the call goes on.
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

function onSocketClose(s, detail) {
  if (s !== calls.current) return;
  const reason = detail && detail.reason ? `: ${detail.reason}` : '';
  const code = detail && detail.code ? ` (code ${detail.code})` : '';
  fail(s, `The connection to the server closed${reason}${code}.`, 'socket_closed');
}

/** Ends the call's resources. Safe to call more than once. */
export function teardown(s, { sendLeave }) {
  if (calls.current === s) {
    calls.current = null;
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
  clearRung();
  updateControls();
}

/** A call that cannot go on: back to the form, say why. */
function fail(s, message, code = null) {
  if (s !== calls.current) return;
  teardown(s, { sendLeave: !!s.id });
  setState('error');
  // A refusal from the server is usually followed by the socket closing: keep its message.
  const shown = s.serverError || { code, message };
  showError(shown.message, shown.code);
  setStatus('error', s.serverError && shown.message !== message ? `Disconnected: ${shown.message}` : message);
  showJoinView();
}

/** The user leaves: tell the server, release everything, back to the form. */
export function leave() {
  const s = calls.current;
  if (!s) return;
  teardown(s, { sendLeave: true });
  setState('left');
  setStatus('idle', 'You left the room.');
  showJoinView();
  el.join.focus();
}
