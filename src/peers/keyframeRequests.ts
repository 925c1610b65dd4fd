import { PictureLossIndication, RtcpPayloadSpecificFeedback, type RTCRtpTransceiver } from 'werift';

export type KeyframeRequestKind = 'PLI' | 'FIR';

/**
 * Calls `onRequest` for each PLI (RFC 4585 §6.3.1) or FIR (RFC 5104 §4.3.1) the remote sends
 * about what this transceiver sends. werift routes payload-specific feedback by its sender SSRC
 * first, so a PLI often lands on the receiver and `sender.onPictureLossIndication` stays silent
 * (werift 0.24.4): read RTCP from the DTLS transport instead. Returns the unsubscribe.
 */
export function onKeyframeRequest(
  transceiver: RTCRtpTransceiver,
  onRequest: (kind: KeyframeRequestKind) => void,
): () => void {
  const { unSubscribe } = transceiver.dtlsTransport.onRtcp.subscribe((rtcp) => {
    if (!(rtcp instanceof RtcpPayloadSpecificFeedback)) return;
    const ssrc = transceiver.sender.ssrc;
    const feedback = rtcp.feedback;
    if (feedback instanceof PictureLossIndication && feedback.mediaSsrc === ssrc) onRequest('PLI');
    // werift's ESM entry does not export FullIntraRequest (its .d.ts does): test the shape.
    else if ('fir' in feedback && feedback.fir.some((entry) => entry.ssrc === ssrc)) onRequest('FIR');
  });
  return unSubscribe;
}
