// The join form: its fields filled from the URL, a token and what was used last time; checked
// as the user types and when they join.
import { el, MODES, params, storageGet, storageSet } from './page.js';

const ROOM_RE = /^[A-Za-z0-9_-]{1,64}$/;
const NAME_MAX = 64;
const LS_NAME = 'mcu.name';
const LS_MODE = 'mcu.mode';

export function selectedMode() {
  const checked = /** @type {HTMLInputElement|null} */ (el.form.querySelector('input[name="mode"]:checked'));
  return checked && MODES.includes(checked.value) ? checked.value : 'camera';
}

export function setMode(mode) {
  const input = /** @type {HTMLInputElement|null} */ (document.getElementById(`mode-${mode}`));
  if (input) input.checked = true;
}

export function validateRoom(room) {
  if (!room) return 'Enter a room name.';
  if (room.length > 64) return 'The room name is at most 64 characters.';
  if (!ROOM_RE.test(room)) return 'Use only letters, digits, “-” and “_” in the room name.';
  return null;
}

export function validateName(name) {
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
export function readForm() {
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

/** Fills the form from ?room=, ?name=, ?mode=, the token's claims and the last join; checks fields as they change. */
export function initFields() {
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
}

/** What was joined with last: the form starts with it next time. */
export function rememberJoin(name, mode) {
  storageSet(LS_NAME, name);
  storageSet(LS_MODE, mode);
}
