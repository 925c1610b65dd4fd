import { letterbox, type Size, type Tile } from '../logic/layout.ts';

/**
 * Pure builders of FFmpeg argument arrays: every flag and every value is its own element, and
 * nothing here is ever joined into a shell string.
 */

const COMMON = ['-hide_banner', '-loglevel', 'warning', '-nostats'];

/**
 * RTP ingest settings measured here: `-probesize 32 -analyzeduration 0` gives a first
 * frame 0.09 s after the first packet; `-fflags nobuffer` would drop the first keyframe.
 */
const RTP_INPUT = ['-protocol_whitelist', 'file,udp,rtp', '-probesize', '32', '-analyzeduration', '0'];

/**
 * libvpx realtime settings: no lookahead, error resilient, no alt-ref frames. One
 * thread: measured here, libvpx's extra threads spin while they wait, and a 720p30 encode paced
 * at real time cost 0.51 of a core with two threads against 0.29 with one (640x360: 0.41 vs 0.08).
 */
export const VP8_REALTIME = [
  '-deadline', 'realtime', '-cpu-used', '8', '-lag-in-frames', '0', '-error-resilient', '1', '-auto-alt-ref', '0',
  '-threads', '1',
];

/** RTP packets of at most 1200 bytes leave room for SRTP and TURN overhead under a 1500-byte MTU. */
export const RTP_PACKET_SIZE = 1200;

export const AUDIO_SAMPLE_RATE = 48000;

export interface RtpOutput {
  port: number;
  payloadType: number;
  ssrc: number;
}

function rtpOutputArgs(output: RtpOutput): string[] {
  return [
    '-f', 'rtp', '-payload_type', String(output.payloadType), '-ssrc', String(output.ssrc),
    `rtp://127.0.0.1:${output.port}?pkt_size=${RTP_PACKET_SIZE}`,
  ];
}

export interface VideoDecoderOptions {
  sdpPath: string;
  /** The tile-source size every participant is scaled and letterboxed to. */
  width: number;
  height: number;
}

/**
 * A participant's video: RTP in, letterboxed raw I420 frames at the tile-source size on stdout.
 * One decoding thread: frame threading holds frames back, measured here 103 ms from a frame's
 * capture to its raw picture with it against 37 ms without (`scripts/bench/decoderLatency.ts`).
 */
export function videoDecoderArgs(o: VideoDecoderOptions): string[] {
  const fit =
    `scale=${o.width}:${o.height}:force_original_aspect_ratio=decrease:force_divisible_by=2,` +
    `pad=${o.width}:${o.height}:(ow-iw)/2:(oh-ih)/2:color=black,format=yuv420p`;
  return [
    ...COMMON, ...RTP_INPUT, '-threads', '1', '-i', o.sdpPath,
    '-an', '-vf', fit, '-fps_mode', 'passthrough', '-f', 'rawvideo', 'pipe:1',
  ];
}

export interface AudioDecoderOptions {
  sdpPath: string;
}

/** A participant's audio: RTP in, mono s16le PCM at 48 kHz on stdout. */
export function audioDecoderArgs(o: AudioDecoderOptions): string[] {
  return [
    ...COMMON, ...RTP_INPUT, '-i', o.sdpPath,
    '-vn', '-ac', '1', '-ar', String(AUDIO_SAMPLE_RATE), '-f', 's16le', 'pipe:1',
  ];
}

export interface CompositorOptions {
  /** Raw inputs, all of `source` size; input 0 is stdin, input i>0 is pipe fd i+2. */
  inputs: number;
  source: Size;
  canvas: Size;
  /** One tile per input, in input order. */
  tiles: Tile[];
  /** A name label per input (undefined: none), in input order. */
  labels?: (TileLabel | undefined)[];
  fps: number;
  bitrateKbps: number;
  /** Frames between forced keyframes. */
  keyframeInterval: number;
  output: RtpOutput;
  /** A second encode of the same picture in H.264, for clients that offer no VP8. */
  h264Output?: RtpOutput;
  /**
   * The ladder's lower rungs (see mixer/logic/ladder.ts): the same picture scaled down and
   * encoded again in VP8, each to its own RTP output. Every encoder sees the same frames with
   * the same keyframe settings, so their keyframes fall on the same frames: a viewer can move
   * between rungs at any keyframe.
   */
  rungOutputs?: RungOutput[];
}

export interface RungOutput {
  size: Size;
  kbps: number;
  output: RtpOutput;
}

/** The fd FFmpeg reads compositor input `index` from. */
export function compositorInputFd(index: number): number {
  return index === 0 ? 0 : index + 2;
}

/** The filter graph that scales every input into its tile and stacks them on a black canvas. */
/**
 * A name label at the bottom left of a picture `height` pixels tall. The text comes from a file
 * (no filter-graph escaping of user text) and is not expanded (`%` stays `%`). Paths must hold no
 * filter-graph special characters: the session writes them into its own temporary folder.
 */
export function labelFilter(label: TileLabel, height: number): string {
  const size = Math.max(12, Math.round(height / 18));
  const margin = Math.max(4, Math.round(size / 2));
  return (
    `drawtext=fontfile=${label.fontFile}:textfile=${label.textFile}:expansion=none:fontsize=${size}:` +
    `fontcolor=white:box=1:boxcolor=black@0.55:boxborderw=${Math.round(size / 3)}:x=${margin}:y=h-th-${margin}`
  );
}

export interface TileLabel {
  fontFile: string;
  textFile: string;
}

export function compositorFilter(
  o: Pick<CompositorOptions, 'inputs' | 'source' | 'canvas' | 'tiles' | 'labels'>,
): string {
  if (o.tiles.length !== o.inputs || o.inputs < 1) {
    throw new RangeError(`compositor needs one tile per input (inputs ${o.inputs}, tiles ${o.tiles.length})`);
  }
  const boxes = o.tiles.map((tile) => letterbox(o.source, tile));
  const { width, height } = o.canvas;
  const fit = (box: Tile, i: number): string => {
    const label = o.labels?.[i];
    return `scale=${box.width}:${box.height},setsar=1${label ? `,${labelFilter(label, box.height)}` : ''}`;
  };
  if (boxes.length === 1) {
    const [box] = boxes as [Tile];
    return `[0:v]${fit(box, 0)},pad=${width}:${height}:${box.x}:${box.y}:color=black[out]`;
  }
  const scaled = boxes.map((box, i) => `[${i}:v]${fit(box, i)}[t${i}]`);
  const labels = boxes.map((_, i) => `[t${i}]`).join('');
  const positions = boxes.map((box) => `${box.x}_${box.y}`).join('|');
  return (
    `${scaled.join(';')};${labels}xstack=inputs=${boxes.length}:layout=${positions}:fill=black,` +
    `pad=${width}:${height}:0:0:color=black[out]`
  );
}

/** H.264 level for a picture size at up to 30 fps: 3.1 up to 1280x720, else 4.0 (up to 2048x1088). */
export function h264Level(canvas: Size): string {
  return canvas.width * canvas.height <= 1280 * 720 ? '3.1' : '4.0';
}

/**
 * x264 for real time: no lookahead or B-frames (zerolatency), baseline profile as WebRTC
 * clients expect. Without a global header x264 repeats SPS and PPS before every keyframe, so a
 * receiver that starts mid-stream can decode from the next one.
 */
function h264EncodeArgs(o: CompositorOptions, output: RtpOutput): string[] {
  const kbps = `${o.bitrateKbps}k`;
  return [
    '-map', '[h264]', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency',
    '-profile:v', 'baseline', '-level:v', h264Level(o.canvas), '-pix_fmt', 'yuv420p', '-threads', '1',
    '-b:v', kbps, '-maxrate', kbps, '-bufsize', kbps,
    '-g', String(o.keyframeInterval), '-keyint_min', String(o.keyframeInterval), ...WAKE_KEYFRAME,
    ...rtpOutputArgs(output),
  ];
}

/**
 * The second frame is a keyframe too. Every compositor encodes one frame to warm up (graph,
 * encoder) that nobody sees; the first frame it is fed for real must open a stream by itself.
 */
const WAKE_KEYFRAME = ['-force_key_frames', 'expr:eq(n,1)'];

/** The compositor: raw tile sources in (paced by the Node clock), the composite out as VP8 RTP (and H.264). */
/**
 * Frames FFmpeg may read ahead per compositor input (its input threads queue them). With 16, a
 * compositor short of CPU drained the pipes into 16-frame queues and the composite ran up to
 * half a second late; with 2 the pipes fill, and the session skips a tick instead (Compositor.ts).
 */
const COMPOSITOR_INPUT_QUEUE = 2;

export function compositorArgs(o: CompositorOptions): string[] {
  const inputs: string[] = [];
  for (let i = 0; i < o.inputs; i++) {
    inputs.push(
      '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-video_size', `${o.source.width}x${o.source.height}`,
      '-framerate', String(o.fps), '-thread_queue_size', String(COMPOSITOR_INPUT_QUEUE), '-i', `pipe:${compositorInputFd(i)}`,
    );
  }
  const rungs = o.rungOutputs ?? [];
  const branches = ['[vp8]', ...rungs.map((_, i) => `[r${i}]`), ...(o.h264Output ? ['[h264]'] : [])];
  const scaled = rungs.map((rung, i) => `;[r${i}]scale=${rung.size.width}:${rung.size.height}[rung${i}]`).join('');
  const filter = branches.length === 1 ? compositorFilter(o) : `${compositorFilter(o)};[out]split=${branches.length}${branches.join('')}${scaled}`;
  return [
    ...COMMON, ...inputs,
    '-filter_complex', filter,
    ...vp8EncodeArgs(branches.length === 1 ? '[out]' : '[vp8]', o.bitrateKbps, o.keyframeInterval, o.output),
    ...rungs.flatMap((rung, i) => vp8EncodeArgs(`[rung${i}]`, rung.kbps, o.keyframeInterval, rung.output)),
    ...(o.h264Output ? h264EncodeArgs(o, o.h264Output) : []),
  ];
}

function vp8EncodeArgs(map: string, bitrateKbps: number, keyframeInterval: number, output: RtpOutput): string[] {
  const kbps = `${bitrateKbps}k`;
  return [
    '-map', map, '-c:v', 'libvpx', ...VP8_REALTIME,
    '-b:v', kbps, '-maxrate', kbps, '-bufsize', kbps,
    '-g', String(keyframeInterval), '-keyint_min', String(keyframeInterval), ...WAKE_KEYFRAME,
    ...rtpOutputArgs(output),
  ];
}

export interface AudioEncoderOptions {
  bitrateKbps: number;
  output: RtpOutput;
  /**
   * The loss Opus's in-band FEC is sized for, in percent (0: none). Each packet then carries a
   * coarse copy of the one before it, and a browser that lost a packet decodes it from the next
   * (the answer offers `useinbandfec=1`). It costs quality at the same bitrate.
   */
  fecLossPercent?: number;
}

/** A weak link loses packets in bursts of a few percent; the mix is sized for 10 %. */
export const MIX_FEC_LOSS_PERCENT = 10;

/**
 * One mix: mono s16le PCM at 48 kHz on stdin, Opus in 20 ms frames out as RTP. Without the small
 * probe FFmpeg read a second of PCM before it encoded its first frame (it waited for ever when it
 * was given no more than a few frames: AudioEncoder lets it hold at most four).
 */
export function audioEncoderArgs(o: AudioEncoderOptions): string[] {
  return [
    ...COMMON, '-probesize', '32', '-analyzeduration', '0', '-f', 's16le', '-ar', String(AUDIO_SAMPLE_RATE), '-ac', '1', '-i', 'pipe:0',
    '-c:a', 'libopus', '-b:a', `${o.bitrateKbps}k`, '-application', 'voip', '-frame_duration', '20',
    ...fecArgs(o.fecLossPercent ?? MIX_FEC_LOSS_PERCENT),
    ...rtpOutputArgs(o.output),
  ];
}

/**
 * For the audio encoder only (`:a`): the RTP muxer has a `fec` option of its own, and given a
 * plain `-fec 1` it refused to open its output ("Unsupported FEC protocol 1").
 */
function fecArgs(lossPercent: number): string[] {
  const percent = Math.round(Math.min(100, Math.max(0, lossPercent)));
  return percent > 0 ? ['-fec:a', '1', '-packet_loss:a', String(percent)] : [];
}
