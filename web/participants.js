// The participant list and the active speaker, as the server last sent them.
import { el, mcu } from './page.js';

export function renderParticipants(s) {
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

export function sanitizeParticipants(value) {
  if (!Array.isArray(value)) return null;
  return value
    .filter((p) => p && typeof p === 'object' && p.id != null)
    .map((p) => ({ id: String(p.id), name: typeof p.name === 'string' ? p.name : String(p.id) }));
}
