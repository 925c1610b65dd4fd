// The call's RTCPeerConnection: the offer with trickle ICE, the server's answer and candidates
// (the signaling protocol, README "Signaling"), its connection state and its stats.
import { calls, later, mcu, setStatus } from './page.js';
import { attachRemote } from './remoteMedia.js';
import { renderConnectionState, renderStats } from './stats.js';

const ANSWER_TIMEOUT_MS = 15000;
/** ICE that never gets anywhere (no usable candidate pair) stays "checking" for ever in Chrome. */
const CONNECT_TIMEOUT_MS = 25000;
const STATS_INTERVAL_MS = 1000;

/** Starts the peer once joined; `s.fail` ends the call. */
export async function startPeer(s, iceServers) {
  if (typeof RTCPeerConnection !== 'function') throw new Error('this browser has no WebRTC');
  const pc = new RTCPeerConnection({ iceServers });
  s.pc = pc;
  mcu.pc = pc;

  pc.addEventListener('icecandidate', (ev) => {
    if (s !== calls.current) return;
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

  // Exactly two transceivers, audio first, then video (the signaling protocol, README "Signaling").
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
  if (s !== calls.current) return;
  await pc.setLocalDescription(offer);
  if (s !== calls.current) return;
  s.sig.send({ type: 'offer', sdp: offer.sdp });
  s.offerSent = true;
  for (const c of s.pendingLocal.splice(0)) s.sig.send({ type: 'candidate', candidate: c });
  later(s, ANSWER_TIMEOUT_MS, () => {
    if (!s.remoteDescriptionSet) s.fail('The server did not answer the offer.', 'timeout');
  });
  later(s, CONNECT_TIMEOUT_MS, () => {
    if (!s.everConnected) {
      s.fail('The media connection could not be established (ICE found no working route to the server).', 'ice_failed');
    }
  });

  startStats(s);
}

function sendCandidate(s, candidate) {
  if (!s.offerSent) { s.pendingLocal.push(candidate); return; }
  s.sig.send({ type: 'candidate', candidate });
}

export async function onAnswer(s, msg) {
  if (!s.pc || typeof msg.sdp !== 'string') return;
  if (s.pc.signalingState !== 'have-local-offer') return; // not expecting an answer
  try {
    await s.pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
  } catch (err) {
    s.fail(`The server’s answer was not accepted: ${err && err.message ? err.message : err}`, 'webrtc_error');
    return;
  }
  if (s !== calls.current) return;
  s.remoteDescriptionSet = true;
  for (const c of s.pendingRemote.splice(0)) addRemoteCandidate(s, c);
}

export function onRemoteCandidate(s, candidate) {
  if (!s.pc || !s.remoteDescriptionSet) { s.pendingRemote.push(candidate ?? null); return; }
  addRemoteCandidate(s, candidate ?? null);
}

async function addRemoteCandidate(s, candidate) {
  if (s !== calls.current || !s.pc) return;
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
  if (s !== calls.current || !s.pc) return;
  const pc = s.pc;
  renderConnectionState(pc);
  const state = pc.connectionState || pc.iceConnectionState;
  if (state === 'connected' || state === 'completed') {
    s.everConnected = true;
    setStatus('ok', `Connected to room ${mcu.room || s.room}`);
  } else if (state === 'disconnected') {
    setStatus('warn', 'Connection interrupted; trying to recover…');
  } else if (state === 'failed' || pc.iceConnectionState === 'failed') {
    s.fail('The media connection failed (ICE could not connect). Check your network and try again.', 'ice_failed');
  } else if (state === 'closed') {
    s.fail('The media connection was closed.', 'closed');
  }
}

function startStats(s) {
  const tick = async () => {
    if (s !== calls.current || !s.pc) return;
    try {
      const summary = await s.sampler.sample(s.pc);
      if (s !== calls.current) return;
      mcu.stats = summary;
      renderStats(summary);
    } catch (err) {
      console.debug('getStats:', err && err.message ? err.message : err);
    }
  };
  tick();
  s.statsTimer = window.setInterval(tick, STATS_INTERVAL_MS);
}
