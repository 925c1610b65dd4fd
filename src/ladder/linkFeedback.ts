import {
  ReceiverEstimatedMaxBitrate,
  RtcpPayloadSpecificFeedback,
  RtcpRrPacket,
  RtcpSrPacket,
  type RTCDtlsTransport,
} from 'werift';

/** What a viewer's browser says of its downlink, as the estimator takes it. */
export interface LinkFeedbackSink {
  remb(now: number, bps: number): void;
  receiverReport(now: number, fractionLost: number): void;
}

/**
 * Feeds `sink` with the REMB and the receiver-report loss a viewer's browser sends about the
 * streams it receives from us (`ssrcs()`: the SSRCs we send it now). Read from the DTLS
 * transport, as keyframe requests are (src/peers/keyframeRequests.ts): werift routes feedback by
 * the sender's SSRC and may hand it to the wrong side. Returns the unsubscribe.
 */
export function onLinkFeedback(
  transport: RTCDtlsTransport,
  ssrcs: () => ReadonlySet<number>,
  sink: LinkFeedbackSink,
  now: () => number = () => performance.now(),
): () => void {
  const { unSubscribe } = transport.onRtcp.subscribe((rtcp) => {
    if (rtcp instanceof RtcpPayloadSpecificFeedback) {
      const feedback = rtcp.feedback;
      if (feedback instanceof ReceiverEstimatedMaxBitrate && feedback.ssrcFeedbacks.some((ssrc) => ssrcs().has(ssrc))) {
        sink.remb(now(), Number(feedback.bitrate));
      }
      return;
    }
    if (rtcp instanceof RtcpRrPacket || rtcp instanceof RtcpSrPacket) {
      const ours = ssrcs();
      // One figure per report: the worst of the streams it speaks of.
      let worst: number | undefined;
      for (const report of rtcp.reports) {
        if (ours.has(report.ssrc)) worst = Math.max(worst ?? 0, report.fractionLost);
      }
      if (worst !== undefined) sink.receiverReport(now(), worst);
    }
  });
  return unSubscribe;
}
