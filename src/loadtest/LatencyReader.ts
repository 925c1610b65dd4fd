import { dePacketizeRtpPackets, type RtpPacket } from 'werift';
import { FfmpegProcess } from '../../base/process/FfmpegProcess.ts';
import type { Size, Tile } from '../../mixer/logic/layout.ts';
import { createLogger } from '../../base/log/logger.ts';
import { i420Size } from '../../mixer/logic/timecode.ts';
import { seqAdd } from '../rtp/seq.ts';
import { gridLayouts, readComposite, type TileRead } from './compositeTiles.ts';
import { ivfFrameHeader, ivfHeader } from './containers.ts';

const log = createLogger('LatencyReader');

export interface LatencyReaderOptions {
  name: string;
  codec: 'VP8' | 'H264';
  /** The size the composite is decoded to (the server's canvas: tile positions follow it). */
  canvas: Size;
  /** The publishers' picture size (tiles letterbox it). */
  source: Size;
  maxTiles: number;
  /** How many tiles the composite should have now (tried first). */
  expectedTiles: () => number;
  /** When the frame of publisher `colour` (palette index) whose code reads `codeMs` was captured, or undefined: not ours. */
  capturedAt: (colour: number, codeMs: number, arrival: number) => number | undefined;
  /** Read the tiles of every n-th decoded frame (every frame is decoded). */
  readEvery: number;
  /** How long close() lets the decoder finish what it holds (default FLUSH_MS). */
  flushMs?: number;
}

export interface LatencyReaderStats {
  framesFed: number;
  framesDecoded: number;
  /** Frames not fed to the decoder: incomplete (a packet lost) or waiting for a keyframe after one. */
  framesSkipped: number;
  tilesRead: number;
  /** Tiles whose code could not be read (or whose colour is nobody's). */
  tilesUnread: number;
  /** Tiles read whose colour is not one of this run's publishers (another participant in the room). */
  tilesForeign: number;
}

/** How long a closing reader's decoder may take to finish what it holds. */
const FLUSH_MS = 2000;
/** Every grid is tried at most this often (when the expected ones do not read). */
const FULL_SCAN_INTERVAL_MS = 1000;
/** Pictures read whose showinfo line is still on its way (stderr can lag behind stdout). */
const MAX_WAITING = 300;
/** FFmpeg's pipe may hold this much before frames are dropped (a decoder that cannot keep up). */
const MAX_PENDING_BYTES = 16 * 2 ** 20;

/**
 * Glass-to-glass latency read from the composite one receiver gets: its video RTP is put back
 * into frames (werift's depacketizer), each frame's arrival is the arrival of its first packet,
 * the frames go to an FFmpeg decoder as IVF on stdin (the frame's number as its pts, so each
 * decoded picture finds its arrival again), and every tile's code and colour say whose frame it
 * is and when it was captured (ClipCursor.capturedAt).
 */
export class LatencyReader {
  readonly stats: LatencyReaderStats = { framesFed: 0, framesDecoded: 0, framesSkipped: 0, tilesRead: 0, tilesUnread: 0, tilesForeign: 0 };
  readonly #o: LatencyReaderOptions;
  readonly #ffmpeg: FfmpegProcess;
  readonly #layouts: Tile[][];
  readonly #arrivals = new Map<number, number>();
  /** showinfo's pts of each decoded picture, by its index: stderr and stdout are two pipes, read in no fixed order. */
  readonly #ptsByIndex = new Map<number, number>();
  /** What the pictures whose showinfo line has not come yet showed. */
  readonly #waiting: { index: number; tiles: TileRead[] }[] = [];
  #samples: number[] = [];
  /** Arrival of the first frame in which each colour's tile (with a code) was read. */
  readonly firstSeen = new Map<number, number>();
  #frame: { timestamp: number; packets: RtpPacket[]; arrival: number; broken: boolean } | undefined;
  #lastSeq: number | undefined;
  #waitForKeyframe = true;
  #fed = 0;
  #closed = false;
  readonly #picture: Buffer;
  #filled = 0;
  /** Which grid read last, tried first. */
  #lastCount = 0;
  #lastFullScan = -Infinity;

  constructor(options: LatencyReaderOptions) {
    this.#o = options;
    const { width, height } = options.canvas;
    this.#layouts = gridLayouts(options.maxTiles, options.canvas, options.source);
    this.#picture = Buffer.allocUnsafe(i420Size(width, height));
    const args = [
      '-hide_banner', '-nostdin', '-loglevel', 'info', '-nostats', '-f', 'ivf', '-i', 'pipe:0',
      '-vf', `scale=${width}:${height},showinfo=checksum=0`, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1',
    ];
    // stdin carries data: ending it is how it stops (see close()), so its exit is watched here, not by FfmpegProcess.
    this.#ffmpeg = new FfmpegProcess({ name: `latency reader ${options.name}`, args, background: true, job: true, stopGraceMs: 1000 });
    this.#ffmpeg.stdin.write(ivfHeader({ fourcc: options.codec === 'H264' ? 'H264' : 'VP80', width, height, fps: 30 }));
    this.#ffmpeg.stdout.on('data', (chunk: Buffer) => this.#onDecoded(chunk));
    this.#ffmpeg.on('stderrline', (line) => {
      const m = /\bn:\s*(\d+)\s+pts:\s*(\d+)/.exec(line);
      if (!m) return;
      this.#ptsByIndex.set(Number(m[1]), Number(m[2]));
      this.#resolveWaiting();
    });
    this.#ffmpeg.on('exit', ({ code, stderrTail }) => {
      if (!this.#closed) log.warn({ name: options.name, code, stderrTail }, "the latency reader's decoder exited: no more latency from this receiver");
    });
  }

  /** Its decoder's process id (its CPU is the load generator's too). */
  get pid(): number | undefined {
    return this.#ffmpeg.pid;
  }

  /** Latencies (ms) measured since the last call. */
  takeSamples(): number[] {
    const out = this.#samples;
    this.#samples = [];
    return out;
  }

  /** One received packet of the composite, and when it arrived (ms, the publishers' clock). */
  push(rtp: RtpPacket, arrival: number): void {
    if (this.#closed) return;
    const { timestamp, sequenceNumber, marker } = rtp.header;
    const lost = this.#lastSeq !== undefined && sequenceNumber !== seqAdd(this.#lastSeq, 1);
    this.#lastSeq = sequenceNumber;
    if (this.#frame && this.#frame.timestamp !== timestamp) this.#finishFrame(true);
    if (!this.#frame) this.#frame = { timestamp, packets: [], arrival, broken: false };
    if (lost) this.#frame.broken = true;
    this.#frame.packets.push(rtp);
    if (marker) this.#finishFrame(false);
  }

  #finishFrame(cut: boolean): void {
    const frame = this.#frame;
    this.#frame = undefined;
    if (!frame) return;
    if (frame.broken || cut) {
      this.stats.framesSkipped++;
      this.#waitForKeyframe = true;
      return;
    }
    const { data, isKeyframe } = dePacketizeRtpPackets(this.#o.codec === 'H264' ? 'MPEG4/ISO/AVC' : 'VP8', frame.packets);
    const keyframe = this.#o.codec === 'H264' ? isKeyframe : data.length > 0 && (data[0]! & 1) === 0;
    if (this.#waitForKeyframe && !keyframe) {
      this.stats.framesSkipped++;
      return;
    }
    const stdin = this.#ffmpeg.stdin;
    if (!stdin.writable || stdin.writableLength > MAX_PENDING_BYTES) {
      this.stats.framesSkipped++;
      this.#waitForKeyframe = true;
      return;
    }
    this.#waitForKeyframe = false;
    const pts = this.#fed++;
    this.#arrivals.set(pts, frame.arrival);
    stdin.write(Buffer.concat([ivfFrameHeader(data.length, pts), data]));
    this.stats.framesFed++;
  }

  #onDecoded(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(this.#picture.length - this.#filled, chunk.length - offset);
      chunk.copy(this.#picture, this.#filled, offset, offset + n);
      this.#filled += n;
      offset += n;
      if (this.#filled === this.#picture.length) {
        this.#filled = 0;
        this.#onPicture();
      }
    }
  }

  /** Reads the tiles at once (the picture buffer is reused); their latency waits for the picture's showinfo line. */
  #onPicture(): void {
    const index = this.stats.framesDecoded++;
    if (index % this.#o.readEvery !== 0) return;
    this.#waiting.push({ index, tiles: this.#readTiles() });
    if (this.#waiting.length > MAX_WAITING) this.#waiting.shift();
    this.#resolveWaiting();
  }

  /**
   * Reads the grid that read last, and the one this run's publishers make (others may be in the
   * room: a bench's bot); only when neither reads completely, and at most once a second, every
   * grid: reading 25 grids of every picture cost more than the rest of the load generator.
   */
  #readTiles(): TileRead[] {
    const picture = { format: 'i420' as const, ...this.#o.canvas, data: this.#picture };
    const counts = [this.#lastCount, this.#o.expectedTiles()].filter((n, i, all) => n >= 1 && n <= this.#layouts.length && all.indexOf(n) === i);
    let read = readComposite(picture, counts.map((n) => this.#layouts[n - 1]!), this.#o.source);
    const complete = read.count > 0 && read.tiles.every((t) => t.ms !== undefined);
    const now = performance.now();
    if (!complete && now - this.#lastFullScan >= FULL_SCAN_INTERVAL_MS) {
      this.#lastFullScan = now;
      read = readComposite(picture, this.#layouts, this.#o.source);
    }
    if (read.count > 0) this.#lastCount = read.count;
    return read.tiles;
  }

  /** Turns the tiles of every picture whose pts is known into latencies (arrival − capture). */
  #resolveWaiting(): void {
    while (this.#waiting.length && this.#ptsByIndex.has(this.#waiting[0]!.index)) {
      const { index, tiles } = this.#waiting.shift()!;
      const pts = this.#ptsByIndex.get(index)!;
      for (const key of this.#ptsByIndex.keys()) if (key <= index) this.#ptsByIndex.delete(key);
      const arrival = this.#arrivals.get(pts);
      for (const key of this.#arrivals.keys()) if (key <= pts) this.#arrivals.delete(key);
      if (arrival === undefined) continue;
      for (const tile of tiles) {
        if (tile.bot >= 0 && tile.ms !== undefined && !this.firstSeen.has(tile.bot)) this.firstSeen.set(tile.bot, arrival);
        if (tile.ms === undefined || tile.bot < 0) {
          this.stats.tilesUnread++;
          continue;
        }
        const captured = this.#o.capturedAt(tile.bot, tile.ms, arrival);
        if (captured === undefined) {
          this.stats.tilesForeign++;
          continue;
        }
        this.stats.tilesRead++;
        this.#samples.push(arrival - captured);
      }
    }
  }

  /** Ends the decoder's input: it decodes and reads what it still holds (its threads keep a few frames), then exits. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#ffmpeg.stdin.end();
    let timer: NodeJS.Timeout | undefined;
    const flushed = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#o.flushMs ?? FLUSH_MS)));
    await Promise.race([this.#ffmpeg.whenExited(), flushed]);
    clearTimeout(timer);
    await this.#ffmpeg.stop();
  }
}
