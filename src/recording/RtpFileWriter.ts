import type { Socket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FfmpegProcess } from '../../base/process/FfmpegProcess.ts';
import { createLogger } from '../../base/log/logger.ts';
import { bindLoopbackUdp } from '../../base/net/loopbackSocket.ts';
import { allocateRtpPort, releaseRtpPort, waitUntilBound } from '../../base/net/ports.ts';
import { readSeq, readTimestamp, writeSeqAndTimestamp } from '../rtp/rtpHeader.ts';
import { seqAdd, tsAdd } from '../rtp/seq.ts';

const log = createLogger('RtpFileWriter');

/** While stopping: the first extra packet (see #kick), and more while FFmpeg has not exited. */
const KICK_FIRST_MS = 50;
const KICK_AFTER_MS = 250;
/** 20 ms of Opus at 48 kHz (RFC 7587 §4.1: the RTP clock is always 48 kHz). */
const OPUS_FRAME_TICKS = 960;

export type RtpKind = 'video' | 'audio';

/** How FFmpeg ended: `expected` when stop() asked it to. */
export interface RtpFileWriterExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  expected: boolean;
  stderrTail: string;
}

export interface RtpFileWriterOptions {
  /** For logs, e.g. `recorder lobby take.webm`. */
  name: string;
  /** The streams FFmpeg receives; each gets an even loopback port with the one above it free (RTCP). */
  kinds: readonly RtpKind[];
  /** The SDP FFmpeg reads, for the ports chosen. */
  sdp: (ports: Partial<Record<RtpKind, number>>) => string;
  /** FFmpeg's arguments, reading the SDP at `sdpPath`. */
  args: (sdpPath: string) => string[];
  /** Below the media path's priority (FfmpegProcess `background`). */
  background?: boolean;
}

/**
 * The one way the project turns RTP into a file, used by the server's recorder and by the bot:
 * RTP sent on loopback UDP to an FFmpeg that reads it through an SDP file and stream-copies it.
 * It owns the ports, the SDP's folder, the sending socket and FFmpeg, and releases them all once
 * FFmpeg has exited (`closed`). What goes into the file, and when, is the caller's business.
 */
export class RtpFileWriter {
  readonly process: FfmpegProcess;
  /** Resolves once FFmpeg has exited and every resource is released. */
  readonly closed: Promise<RtpFileWriterExit>;
  /** The SDP FFmpeg reads (removed with its folder once FFmpeg has exited). */
  readonly sdpPath: string;
  readonly #socket: Socket;
  readonly #ports: Partial<Record<RtpKind, number>>;
  readonly #workDir: string;
  readonly #kicks = new Set<NodeJS.Timeout>();
  #lastAudio: Buffer | undefined;
  #stopping: Promise<RtpFileWriterExit> | undefined;

  /** Chooses the ports, writes the SDP and starts FFmpeg; on failure releases what it took. */
  static async create(options: RtpFileWriterOptions): Promise<RtpFileWriter> {
    const ports: Partial<Record<RtpKind, number>> = {};
    let workDir: string | undefined;
    let socket: Socket | undefined;
    try {
      for (const kind of options.kinds) ports[kind] = await allocateRtpPort();
      workDir = await mkdtemp(join(tmpdir(), 'mcu-rtp-file-'));
      const sdpPath = join(workDir, 'input.sdp');
      await writeFile(sdpPath, options.sdp(ports));
      const args = options.args(sdpPath);
      socket = await bindLoopbackUdp((error) => log.warn({ err: error, name: options.name }, 'udp socket error'));
      return new RtpFileWriter(options, { socket, ports, workDir, sdpPath, args });
    } catch (error) {
      socket?.close();
      for (const port of Object.values(ports)) releaseRtpPort(port);
      if (workDir) await rm(workDir, { recursive: true, force: true });
      throw error;
    }
  }

  private constructor(
    options: RtpFileWriterOptions,
    io: { socket: Socket; ports: Partial<Record<RtpKind, number>>; workDir: string; sdpPath: string; args: string[] },
  ) {
    this.sdpPath = io.sdpPath;
    this.#socket = io.socket;
    this.#ports = io.ports;
    this.#workDir = io.workDir;
    this.process = new FfmpegProcess({ name: options.name, args: io.args, ...(options.background ? { background: true } : {}) });
    this.process.stdout.resume();
    this.closed = new Promise((resolve) => {
      this.process.once('exit', (exit) => void this.#release().then(() => resolve(exit)));
    });
  }

  /** The loopback port FFmpeg receives each kind on. */
  get ports(): Readonly<Partial<Record<RtpKind, number>>> {
    return this.#ports;
  }

  /** Whether FFmpeg has bound every port within `timeoutMs`; rejects if it exits first. */
  async untilListening(timeoutMs: number): Promise<boolean> {
    const bound = Promise.all(Object.values(this.#ports).map((port) => waitUntilBound(port, timeoutMs)));
    const all = await this.process.untilReady(bound, 'listening for RTP');
    return all.every(Boolean);
  }

  /** One RTP packet to FFmpeg (the caller's own buffer: it is kept, as the last audio, for #kick). */
  send(kind: RtpKind, packet: Buffer): void {
    const port = this.#ports[kind];
    if (port === undefined || this.process.exited) return;
    this.#socket.send(packet, port, '127.0.0.1');
    if (kind === 'audio') this.#lastAudio = packet;
  }

  /** Asks FFmpeg to finish the file (SIGINT); resolves once it has exited and all is released. Idempotent. */
  stop(): Promise<RtpFileWriterExit> {
    this.#stopping ??= (async () => {
      const stopped = this.process.stop();
      this.#kickAfter(KICK_FIRST_MS, false);
      this.#kickAfter(KICK_AFTER_MS, true);
      await stopped;
      return this.closed;
    })();
    return this.#stopping;
  }

  /**
   * FFmpeg sees a stop request only between packets: with its input quiet (the sender left, or
   * the caller stopped forwarding) it sits in a read. One more audio packet, a repeat of the last
   * one moved on by 20 ms, lets it see the request and finish the file.
   */
  #kick(): void {
    const last = this.#lastAudio;
    if (!last || this.process.exited) return;
    const copy = Buffer.from(last);
    writeSeqAndTimestamp(copy, seqAdd(readSeq(last), 1), tsAdd(readTimestamp(last), OPUS_FRAME_TICKS));
    this.send('audio', copy);
  }

  #kickAfter(ms: number, repeat: boolean): void {
    const timer = (repeat ? setInterval : setTimeout)(() => this.#kick(), ms);
    timer.unref();
    this.#kicks.add(timer);
  }

  async #release(): Promise<void> {
    for (const timer of this.#kicks) clearInterval(timer);
    this.#kicks.clear();
    this.#socket.close();
    for (const port of Object.values(this.#ports)) releaseRtpPort(port);
    await rm(this.#workDir, { recursive: true, force: true });
  }
}
