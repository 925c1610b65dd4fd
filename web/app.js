// The conference page: join form, one RTCPeerConnection to the mixer, the composite video and
// the mixed audio, the participant list, live stats. Speaks only the signaling protocol (README,
// "Signaling"). This module wires the page's parts: page.js (shared state and helpers), form.js, localMedia.js, call.js (joining,
// the server's messages, leaving), peer.js, remoteMedia.js, participants.js, stats.js, signaling.js.
//
// For browser tests:
//   window.mcu = { pc, state ('idle'|'joining'|'joined'|'left'|'error'), id, room, mode,
//                  participants, speaker, stats (latest summary, see stats.js),
//                  rung (the last `rung` message: {rung, cap, rungs, estimateKbps, receivingKbps}, see rung.js),
//                  error, join(), leave() }
//   pc is the call's RTCPeerConnection (null until `joined`); after leaving or a failure it stays
//   the last one, closed, while id, participants and speaker are reset.
//   body[data-state] and #status[data-state] mirror mcu.state.
//   Form: #join-form #room #name #mode-camera #mode-microphone #mode-viewer #join,
//         #room-error #name-error; getUserMedia failure: #media-error #join-as-viewer #join-mic-only
//   Call: #composite (video) #mix (audio) #self-preview #unmute-audio #mute-mic #toggle-camera #leave
//         #rung-bar (hidden until a `rung` message) #rung[data-rung][data-height] #rung-cap (select: '' Auto,
//         then each rung's index, then the ladder's length for audio only)
//         #participants > li[data-id][data-self][data-speaker]  #participant-count  #speaker
//   Errors: #error-banner[data-code] #error-message #error-code #error-dismiss
//   Stats (text = bare value, data-value = raw number): see the ids in index.html (#stats-*).
//   URL: ?room= (default "default", or the room of ?token=), ?name=, ?mode=camera|microphone|viewer,
//        ?token= (a join token, sent with `join`), ?autojoin=1
import { join, leave, teardown } from './call.js';
import { initFields, readForm, setMode } from './form.js';
import { toggleCamera, toggleMic } from './localMedia.js';
import { calls, el, hideError, mcu, params, setState, setStatus, showJoinView } from './page.js';
import { playRemote, updatePlaceholder } from './remoteMedia.js';
import { sendCap } from './rung.js';

mcu.join = (opts) => join(opts);
mcu.leave = () => leave();

/** The page's buttons and the page's own life (back/forward cache). */
function initForm() {
  initFields();
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
  el.rungCap.addEventListener('change', sendCap);
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
    const s = calls.current;
    if (s) teardown(s, { sendLeave: !!s.id });
  });
  window.addEventListener('pageshow', (ev) => {
    // Restored from the back/forward cache after pagehide ended the call.
    if (ev.persisted && !calls.current && (mcu.state === 'joining' || mcu.state === 'joined')) {
      setState('left');
      setStatus('idle', 'You left the room.');
      showJoinView();
    }
  });
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
