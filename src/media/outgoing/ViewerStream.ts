/** A stream the server sends to viewers (the composite, a mix): what a viewer's chain takes its packets from. */
export interface OutgoingSource {
  /** Tells the sources apart (their SSRCs change with their compositors). */
  readonly id: number;
  readonly kind: 'audio' | 'video';
  readonly codec: 'VP8' | 'H264' | 'opus';
  /** Hands `listener` every packet sent from now on, and calls `closed` once the source closes; returns the removal. */
  onRtp(listener: (packet: Buffer) => void, closed?: () => void): () => void;
}

/** One viewer's stream of one kind, as its chain's links see it. */
export interface ViewerStream {
  kind: 'audio' | 'video';
  codec: 'VP8' | 'H264' | 'opus';
  /** The source of the packet being handled (set before each packet enters the chain). */
  source(): number;
  /** The viewer now sees `source`: the one it saw before can be let go. */
  switched(source: number): void;
  now(): number;
}

/** Control messages of a viewer's chain. */
export type ViewerControl =
  /** Take `source`'s packets from its next keyframe on, in place of the current source's. */
  | { type: 'switch'; source: number }
  /** Send nothing of any source until the next switch (the viewer's video pauses on its last picture). */
  | { type: 'pause' }
  /** Send padding-only packets of these sizes now, numbered in the stream (a probe of the link). */
  | { type: 'pad'; sizes: readonly number[] };
