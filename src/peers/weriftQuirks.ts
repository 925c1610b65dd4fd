import { RTCDtlsTransport, RTCRtpSender, type RTCPeerConnection } from 'werift';
import { RetransmissionPolicy } from '../rtp/RetransmissionPolicy.ts';
import type { IceServer } from './peerConfig.ts';

/**
 * Work-arounds for werift 0.24.4 behaviour that a server cannot live with. Each is applied to the
 * peer's transports after they exist (setRemoteDescription for the answerer, addTransceiver for
 * the offerer) and before ICE gathering starts (setLocalDescription).
 */

/** Shape of the ICE agent werift exposes (typed loosely in its declarations). */
interface IceAgent {
  stunServer?: unknown;
}

function hasStun(iceServers: IceServer[]): boolean {
  return iceServers.some((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]).some((url) => /^stuns?:/i.test(url)));
}

/**
 * With no STUN server configured, werift's ICE agent falls back to stun.l.google.com and sends it
 * a binding request from every host candidate (ice/src/ice.js, Connection constructor). A server
 * told to use no ICE servers, and every test on loopback, must send nothing off the machine.
 */
export function dropDefaultStun(pc: RTCPeerConnection, iceServers: IceServer[]): void {
  if (hasStun(iceServers)) return;
  for (const transceiver of pc.getTransceivers()) {
    const agent = transceiver.dtlsTransport?.iceTransport.connection as IceAgent | undefined;
    if (agent) agent.stunServer = undefined;
  }
}

/**
 * Makes this peer the DTLS server (answers `a=setup:passive`), so that the client's side of the
 * handshake, retransmissions included, is driven by the browser rather than by a server whose
 * event loop may be busy. As DTLS client, werift threw on a duplicate HelloVerifyRequest (sent
 * when a stalled peer retransmits its ClientHello) and the handshake died: about one join in five
 * on a loaded 2-core machine. patches/werift+0.24.4.patch makes it ignore the duplicate instead,
 * which the bot (a werift DTLS client) needs too.
 */
export function actAsDtlsServer(pc: RTCPeerConnection): void {
  for (const transceiver of pc.getTransceivers()) {
    if (transceiver.dtlsTransport && transceiver.dtlsTransport.role === 'auto') transceiver.dtlsTransport.role = 'server';
  }
}

/**
 * werift makes its DTLS certificate on the first peer's createAnswer (ECDSA key and X.509 in
 * JavaScript: 300 ms of event loop measured here), freezing every stream of the server during the
 * first join. Made at start-up instead; werift keeps it for every later peer.
 */
export async function prepareDtlsCertificate(): Promise<void> {
  await RTCDtlsTransport.SetupCertificate();
}

/** What patches/werift+0.24.4.patch lets a sender consult (its `retransmissionPolicy`). */
interface PolicedSender {
  retransmissionPolicy?: RetransmissionPolicy;
}

/**
 * werift answers every NACK from its history (RetransmissionPolicy says why that is a problem);
 * patched, a sender with a policy asks it first. Each sender gets its own.
 */
export function boundRetransmissions(sender: RTCRtpSender): void {
  (sender as unknown as PolicedSender).retransmissionPolicy = new RetransmissionPolicy();
}

/** The policy `boundRetransmissions` gave a sender, if any (its `refused` count is reported). */
export function policyOf(sender: RTCRtpSender): RetransmissionPolicy | undefined {
  return (sender as unknown as PolicedSender).retransmissionPolicy;
}

/** Whether the patch that consults the policy is in the werift that runs (`npm ci` applies it). */
export function retransmissionPolicyPatched(): boolean {
  const source = String(RTCRtpSender.prototype.handleRtcpPacket) + String(RTCRtpSender.prototype.sendRtp);
  return (source.match(/retransmissionPolicy/g) ?? []).length >= 2;
}
