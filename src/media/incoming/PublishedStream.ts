import type { AudioLevel } from '../../rtp/audioLevel.ts';
import type { KeyframeReason, PublisherKeyframes } from './PublisherKeyframes.ts';

/** The time and timers a link uses, injected so that a test can drive them. */
export interface LinkClock {
  now(): number;
  /** Calls `run` in `ms`; returns its cancellation. */
  after(ms: number, run: () => void): () => void;
}

export const realClock: LinkClock = {
  now: () => performance.now(),
  after: (ms, run) => {
    const timer = setTimeout(run, ms);
    return () => clearTimeout(timer);
  },
};

/** What a participant's incoming links report (Participant.videoIngest, audioIngest). */
export interface IngestFigures {
  /** Video: frames the gate dropped (incomplete, or not decodable after a loss). */
  framesDropped: number;
  /** Video: gaps the gate gave up on (NACK did not fill them). */
  losses: number;
  /** Video: whole frames handed to the decoder. */
  framesForwarded: number;
  /** Video: times the decoder fell behind and frames were skipped to the next keyframe. */
  decoderBehind: number;
  /** Audio: the level the publisher last reported (RFC 6464), if it reports any. */
  audioLevel?: AudioLevel;
  /** Audio: packets the publisher marked as voice. */
  voicePackets: number;
  /** Audio: packets not decoded because the publisher said they were silence (SilenceGate). */
  silenceHeld: number;
  /** Audio: its silence is being held back from the decoder now. */
  silent: boolean;
}

export const noFigures = (): IngestFigures => ({ framesDropped: 0, losses: 0, framesForwarded: 0, decoderBehind: 0, voicePackets: 0, silenceHeld: 0, silent: false });

/** One stream a participant publishes, as negotiated: what its incoming chain is built from. */
export interface PublishedStream {
  kind: 'audio' | 'video';
  codec: 'VP8' | 'H264' | 'opus';
  /** The publisher accepts RTCP PLI for it (`a=rtcp-fb:* nack pli`, RFC 4585 §4.2). */
  pli: boolean;
  /** The id of the ssrc-audio-level header extension (RFC 6464), when negotiated. */
  audioLevelId?: number;
  /** Audio: decode its silence too, no silence gate (ServerConfig.decodeSilence). */
  decodeSilence: boolean;
  /** Video: the one decider of this publisher's keyframe requests. */
  keyframes?: PublisherKeyframes;
  /** Sends the publisher a PLI about `ssrc`. */
  sendPli(ssrc: number): void;
  clock: LinkClock;
  figures: IngestFigures;
}

/** Control messages of an incoming chain, from the session (via the server) or from a link. */
export type IncomingControl =
  /** The stream needs a keyframe: the keyframe request link decides whether to ask now. */
  | { type: 'keyframe'; reason: KeyframeReason }
  /** The decoder's count of frames decoded (every 100 ms). */
  | { type: 'decoded'; frames: number };
