import type { MediaStreamTrack } from 'werift';
import type { SessionParticipantPorts } from '../../mixer/SessionTypes.ts';
import type { ViewerLink } from '../ladder/ViewerLadder.ts';
import type { OfferPlan } from '../peers/offer.ts';
import type { IceServer } from '../peers/peerConfig.ts';
import type { ServerMessage } from '../signaling/messages.ts';

/** How the server reaches the participant's client: its signaling connection. */
export interface ParticipantSignal {
  send(message: ServerMessage): void;
}

/** What the participant publishes, with the payload types the client will send. */
export interface NegotiatedMedia {
  plan: OfferPlan;
  video?: { codec: 'VP8' | 'H264'; payloadType: number };
  audio?: { payloadType: number };
}

/** What the room gives a participant once its offer is understood. */
export interface AttachedMedia {
  /** Where its media goes, once the session has taken it in (rejected if it cannot). */
  ports: Promise<SessionParticipantPorts>;
  /** The composite, for a participant that receives video. */
  videoTrack?: MediaStreamTrack;
  /** The mix it hears (everyone but itself), for a participant that receives audio. */
  audioTrack?: MediaStreamTrack;
  /** Its peer sends the composite now: what its browser says of its link chooses its rung. */
  onSending?: (link: ViewerLink) => void;
}

/** The room's side of a participant: the only way a participant reaches its room. */
export interface ParticipantRoomHooks {
  attach(participant: { id: string; name: string }, media: NegotiatedMedia): Promise<AttachedMedia>;
}

/** What a participant's token allows: publishing, receiving the composite and mix, being listed. */
export interface ParticipantAccess {
  publish: boolean;
  subscribe: boolean;
  hidden: boolean;
}

export interface ParticipantOptions {
  id: string;
  name: string;
  room: string;
  signal: ParticipantSignal;
  hooks: ParticipantRoomHooks;
  hostAddresses: string[];
  iceServers: IceServer[];
  /** Removed when ICE has been disconnected this long (werift reports `disconnected`). */
  disconnectTimeoutMs: number;
  /** Removed when not connected this long after its offer. */
  connectTimeoutMs: number;
  /** Its audio's silence is decoded too, not held back (ServerConfig.decodeSilence). */
  decodeSilence?: boolean;
  access?: ParticipantAccess;
}

export type ParticipantEvents = {
  /** Heard by the owning room only. */
  '@close': [reason: string];
};

export type ParticipantObserverEvents = {
  close: [reason: string];
  connected: [];
  /** It needs a keyframe of the composite: it just connected, or sent a PLI or FIR. */
  keyframerequest: [];
};

export type ParticipantRole = 'publisher' | 'viewer';
