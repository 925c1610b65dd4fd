// What the viewer receives of the composite's ladder (the server's `rung` message, README
// "Signaling") and its data-saver choice, sent as `cap`. A client that receives no VP8
// composite gets no `rung` message, and the bar stays hidden.
import { calls, el, mcu } from './page.js';

/** A choice just sent is kept on screen this long even if a report sent before it says otherwise. */
const CHOICE_SETTLE_MS = 3000;

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The rungs of a message, or null when malformed. */
function sanitizeRungs(value) {
  if (!Array.isArray(value) || value.length === 0) return null;
  const rungs = value.map((r) => ({ width: num(r && r.width), height: num(r && r.height), kbps: num(r && r.kbps) }));
  return rungs.every((r) => r.width !== null && r.height !== null && r.kbps !== null) ? rungs : null;
}

/** `720p · 1280x720 · estimate 2400 kbit/s · receiving 1610 kbit/s`, or `audio only · ...`. */
export function describeRung(r) {
  const rung = r.rungs[r.rung];
  const parts = rung ? [`${rung.height}p`, `${rung.width}x${rung.height}`] : ['audio only'];
  if (r.estimateKbps !== null) parts.push(`estimate ${Math.round(r.estimateKbps)} kbit/s`);
  if (r.receivingKbps !== null) parts.push(`receiving ${Math.round(r.receivingKbps)} kbit/s`);
  return parts.join(' · ');
}

/** The select's value for a cap: '' (Auto) for none. */
const capValue = (cap) => (cap > 0 ? String(cap) : '');

/** Options: Auto, each rung by its height, Audio only (the ladder's length). Rebuilt when the ladder changes. */
function renderChoices(rungs) {
  const key = rungs.map((r) => `${r.width}x${r.height}@${r.kbps}`).join(',');
  if (el.rungCap.dataset.ladder === key) return;
  el.rungCap.dataset.ladder = key;
  const option = (value, text) => {
    const o = document.createElement('option');
    o.value = value;
    o.textContent = text;
    return o;
  };
  el.rungCap.replaceChildren(
    option('', 'Auto'),
    ...rungs.map((r, i) => option(String(i), `${r.height}p`)),
    option(String(rungs.length), 'Audio only'),
  );
}

/** A `rung` message: shown under the composite, kept in window.mcu.rung. Malformed ones are ignored. */
export function onRung(s, msg) {
  const rungs = sanitizeRungs(msg.rungs);
  if (!rungs || !Number.isInteger(msg.rung) || msg.rung < 0 || msg.rung > rungs.length) return;
  const r = {
    rung: msg.rung,
    cap: Number.isInteger(msg.cap) ? msg.cap : 0,
    rungs,
    estimateKbps: num(msg.estimateKbps),
    receivingKbps: num(msg.receivingKbps),
  };
  mcu.rung = r;
  renderChoices(rungs);
  const shown = el.rungCap.value === '' ? 0 : Number(el.rungCap.value);
  // An operator's cap (REST) shows here too; a report older than the viewer's own choice does not undo it.
  const settling = s.capSent && performance.now() - s.capSent.at < CHOICE_SETTLE_MS && s.capSent.cap !== r.cap;
  if (shown !== r.cap && !settling) el.rungCap.value = capValue(r.cap);
  el.rung.textContent = describeRung(r);
  el.rung.dataset.rung = String(r.rung);
  el.rung.dataset.height = String(rungs[r.rung] ? rungs[r.rung].height : 0);
  el.rungBar.hidden = false;
}

/** The data-saver choice: `cap` with the best rung wanted, null for Auto. */
export function sendCap() {
  const s = calls.current;
  if (!s || !s.sig) return;
  const cap = el.rungCap.value === '' ? null : Number(el.rungCap.value);
  s.capSent = { cap: cap ?? 0, at: performance.now() };
  s.sig.send({ type: 'cap', rung: cap });
}

/** No call: nothing received. */
export function clearRung() {
  mcu.rung = null;
  el.rungBar.hidden = true;
  el.rung.textContent = '';
  delete el.rung.dataset.rung;
  delete el.rung.dataset.height;
  el.rungCap.replaceChildren();
  delete el.rungCap.dataset.ladder;
}
