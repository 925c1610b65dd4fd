// What every part of the page shares: its elements, the URL's parameters, the state the tests
// read (window.mcu, see app.js), the current call, and the status, error and view helpers.

export const MODES = ['camera', 'microphone', 'viewer'];

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
export const el = {
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
  rungBar: $('rung-bar'),
  rung: $('rung'),
  rungCap: /** @type {HTMLSelectElement} */ ($('rung-cap')),
  muteMic: /** @type {HTMLButtonElement} */ ($('mute-mic')),
  toggleCamera: /** @type {HTMLButtonElement} */ ($('toggle-camera')),
  leave: /** @type {HTMLButtonElement} */ ($('leave')),
  participants: $('participants'),
  participantCount: $('participant-count'),
  speaker: $('speaker'),
};

export const params = new URLSearchParams(window.location.search);

/**
 * For automated tests: the current peer connection and page state, plus a little more.
 * state: 'idle' | 'joining' | 'joined' | 'left' | 'error'
 */
export const mcu = {
  /** @type {RTCPeerConnection | null} */ pc: null,
  state: 'idle',
  /** @type {string | null} this participant's id */ id: null,
  /** @type {string | null} */ room: null,
  /** @type {'camera'|'microphone'|'viewer'|null} */ mode: null,
  /** @type {{id: string, name: string}[]} */ participants: [],
  /** @type {string | null} active speaker id */ speaker: null,
  /** @type {import('./stats.js').StatsSummary | null} latest stats sample */ stats: null,
  /**
   * The last `rung` message, checked: what this viewer receives of the composite's ladder.
   * @type {{rung: number, cap: number, rungs: {width: number, height: number, kbps: number}[],
   *   estimateKbps: number|null, receivingKbps: number|null} | null}
   */
  rung: null,
  /** @type {{code: string|null, message: string} | null} last error shown */ error: null,
  /** Set by app.js. */
  join: (_opts) => {},
  leave: () => {},
};
/** @type {any} */ (window).mcu = mcu;

/** The current call (see call.js); every async continuation checks it is still current. */
export const calls = { current: /** @type {any} */ (null) };

/** Runs `fn` after `ms` if the call `s` is still the current one; cleared with the call. */
export function later(s, ms, fn) {
  const t = setTimeout(() => { s.timers.delete(t); if (s === calls.current) fn(); }, ms);
  s.timers.add(t);
}

export function setState(state) {
  mcu.state = state;
  document.body.dataset.state = state;
  el.status.dataset.state = state;
}

/** @param {'idle'|'busy'|'ok'|'warn'|'error'} tone */
export function setStatus(tone, text) {
  el.status.textContent = text;
  el.status.dataset.tone = tone;
}

export function showError(message, code = null) {
  mcu.error = { code: code || null, message };
  el.bannerMessage.textContent = message;
  el.bannerCode.textContent = code || '';
  el.bannerCode.hidden = !code;
  if (code) el.banner.dataset.code = code;
  else delete el.banner.dataset.code;
  el.banner.hidden = false;
}

export function hideError() {
  el.banner.hidden = true;
  el.bannerMessage.textContent = '';
  el.bannerCode.textContent = '';
  el.bannerCode.hidden = true;
  delete el.banner.dataset.code;
}

export function showJoinView() {
  el.callView.hidden = true;
  el.joinView.hidden = false;
  setFormBusy(false);
}

export function showCallView() {
  el.joinView.hidden = true;
  el.callView.hidden = false;
}

export function setFormBusy(busy) {
  el.join.disabled = busy;
  el.joinAsViewer.disabled = busy;
  el.joinMicOnly.disabled = busy;
  el.join.textContent = busy ? 'Joining…' : 'Join';
}

export function storageGet(key) {
  try { return window.localStorage.getItem(key); } catch { return null; }
}
export function storageSet(key, value) {
  try { window.localStorage.setItem(key, value); } catch { /* private mode etc. */ }
}

export function roomUrl(room) {
  const url = new URL(window.location.href);
  url.searchParams.set('room', room);
  for (const p of ['autojoin', 'name', 'mode']) url.searchParams.delete(p);
  url.hash = '';
  return url.toString();
}
