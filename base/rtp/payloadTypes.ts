/**
 * The RTP payload types the mixer's encoders stamp and the server offers for each codec. werift
 * rewrites them to whatever each peer negotiated, so these only need to agree with each other.
 */
export const VP8_PAYLOAD_TYPE = 96;
export const H264_PAYLOAD_TYPE = 102;
export const OPUS_PAYLOAD_TYPE = 111;
