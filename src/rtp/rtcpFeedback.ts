/** Bodies of RTCP feedback messages that werift builds only from bytes. */

/** PSFB format 4 (RFC 5104 §4.3.1). */
export const FIR_FORMAT = 4;

/**
 * The body (after the 4-byte common header) of a Full Intra Request asking `mediaSsrc`'s sender
 * for a keyframe: the requester's SSRC, a media source SSRC of 0 (RFC 5104 §4.3.1.2: unused),
 * then one FCI entry of the target SSRC, the command sequence number (a new request must
 * change it, §4.3.1.1) and three reserved bytes.
 */
export function firBody(senderSsrc: number, mediaSsrc: number, sequenceNumber: number): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt32BE(senderSsrc >>> 0, 0);
  body.writeUInt32BE(0, 4);
  body.writeUInt32BE(mediaSsrc >>> 0, 8);
  body[12] = sequenceNumber & 0xff;
  return body;
}
