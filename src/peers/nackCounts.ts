import type { RTCPeerConnection } from 'werift';
import { policyOf } from './weriftQuirks.ts';

/** RTCP generic NACKs (RFC 4585 §6.2.1) on one peer connection. */
export interface NackCounts {
  /** From the remote, about what we send it (the composite, its mix): it lost packets. */
  received: number;
  /** To the remote, about what it publishes: we lost packets. */
  sent: number;
  /** NACKed packets not sent again: the retransmission policy refused them (RetransmissionPolicy). */
  refused: number;
}

/**
 * werift 0.24 counts both, in fields its typings mark private (`RTCRtpSender.nackCount`,
 * `RTCRtpReceiver.nackCountBySsrc`) and that only its asynchronous, costly getStats() reports.
 * They are read here directly, each checked for its shape, so a participant's figures can be
 * taken synchronously as it leaves; a werift without them reads as zero.
 */
export function nackCounts(pc: RTCPeerConnection | undefined): NackCounts {
  const counts: NackCounts = { received: 0, sent: 0, refused: 0 };
  if (!pc) return counts;
  for (const transceiver of pc.getTransceivers()) {
    const sender: { nackCount?: unknown } = transceiver.sender as unknown as { nackCount?: unknown };
    if (typeof sender.nackCount === 'number') counts.received += sender.nackCount;
    counts.refused += policyOf(transceiver.sender)?.refused ?? 0;
    const receiver = transceiver.receiver as unknown as { nackCountBySsrc?: unknown };
    const bySsrc = receiver.nackCountBySsrc;
    if (typeof bySsrc === 'object' && bySsrc !== null) {
      for (const n of Object.values(bySsrc)) if (typeof n === 'number') counts.sent += n;
    }
  }
  return counts;
}
