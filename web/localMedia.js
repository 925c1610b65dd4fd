// The camera and microphone: asking for them, saying why they are unavailable, and the
// mute/camera buttons that act on them.
import { calls, el } from './page.js';

export function describeMediaError(err, mode) {
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

export async function getLocalMedia(mode) {
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

export function stopStream(stream) {
  if (!stream) return;
  for (const t of stream.getTracks()) t.stop();
}

export function showMediaError(err, mode) {
  el.mediaErrorMessage.textContent = describeMediaError(err, mode);
  el.joinMicOnly.hidden = mode !== 'camera';
  el.mediaError.hidden = false;
}

export function hideMediaError() {
  el.mediaError.hidden = true;
  el.mediaErrorMessage.textContent = '';
}

function localTrack(kind) {
  const s = calls.current;
  if (!s || !s.stream) return null;
  return (kind === 'audio' ? s.stream.getAudioTracks() : s.stream.getVideoTracks())[0] || null;
}

export function updateControls() {
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

export function toggleMic() {
  const t = localTrack('audio');
  if (!t) return;
  t.enabled = !t.enabled;
  updateControls();
}

export function toggleCamera() {
  const t = localTrack('video');
  if (!t) return;
  t.enabled = !t.enabled;
  updateControls();
}
