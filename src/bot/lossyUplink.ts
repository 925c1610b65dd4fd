import type { RTCDtlsTransport } from 'werift';

/**
 * Fault injection, named as such: drops a share of the RTP packets a bot sends before they reach
 * the wire, retransmissions included — a lossy uplink, reproducible on loopback without root
 * (netem would need it). RTCP, DTLS and STUN pass untouched. Returns the undo.
 */
export function dropOutgoingRtp(
  transport: RTCDtlsTransport,
  share: number,
  onDrop: () => void,
  random: () => number = Math.random,
): () => void {
  const original = transport.sendRtp.bind(transport);
  transport.sendRtp = async (payload, header) => {
    if (random() >= share) return original(payload, header);
    onDrop();
    return 0;
  };
  return () => {
    transport.sendRtp = original;
  };
}
