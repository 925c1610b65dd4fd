// What the page receives: the composite in #composite (always muted) and the mix in #mix, and
// the "turn on sound" button when the browser blocks sound.
import { calls, el, setStatus } from './page.js';

/**
 * Called synchronously inside the join click: a play() started during a user gesture lets
 * this element play sound later (Safari needs that; Chrome remembers the gesture anyway).
 */
export function unlockAudio() {
  try {
    if (!el.mix.srcObject) el.mix.srcObject = new MediaStream();
    const p = el.mix.play();
    if (p) p.catch(() => {});
  } catch { /* ignore */ }
}

export function attachRemote(s) {
  if (s !== calls.current || !s.pc) return;
  const videoTrack = s.videoTx && s.videoTx.receiver.track;
  const audioTrack = s.audioTx && s.audioTx.receiver.track;
  const current = (media) => (media.srcObject instanceof MediaStream ? media.srcObject.getTracks()[0] : null);
  if (videoTrack && current(el.composite) !== videoTrack) el.composite.srcObject = new MediaStream([videoTrack]);
  if (audioTrack && current(el.mix) !== audioTrack) el.mix.srcObject = new MediaStream([audioTrack]);
  playRemote(false);
}

/** Plays the composite (always muted; sound comes from #mix) and the mix. */
export function playRemote(fromClick, retries = 3) {
  const v = el.composite.play();
  if (v) v.catch(() => {});
  const a = el.mix.play();
  if (!a) return;
  a.then(() => { el.unmute.hidden = true; }).catch((err) => {
    // AbortError: a new stream was attached while play() waited; the next play() is the one that counts.
    if (err && err.name === 'AbortError' && retries > 0) {
      setTimeout(() => { if (el.mix.paused && el.mix.srcObject) playRemote(fromClick, retries - 1); }, 300);
      return;
    }
    // Whatever stopped it (the autoplay policy mostly), a click on the button plays the sound.
    if (el.mix.paused) el.unmute.hidden = false;
    if (fromClick && err && err.name === 'NotAllowedError') setStatus('warn', 'The browser still blocks sound; click the page and try again.');
  });
}

export function updatePlaceholder() {
  const hasVideo = el.composite.videoWidth > 0 && el.composite.videoHeight > 0;
  el.placeholder.hidden = hasVideo;
}

export function clearRemote() {
  for (const m of [el.composite, el.mix, el.selfPreview]) {
    try { m.pause(); } catch { /* ignore */ }
    m.srcObject = null;
  }
  el.selfPreview.hidden = true;
  el.unmute.hidden = true;
  el.placeholder.hidden = false;
  el.placeholder.textContent = 'Waiting for video…';
}
