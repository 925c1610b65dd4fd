import { randomInt } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { AudioEncoder } from './ffmpeg/AudioEncoder.ts';
import { EVERYONE, type AudioMixer } from './logic/AudioMixer.ts';
import { createLogger } from '../base/log/logger.ts';
import { bindLoopbackUdp } from '../base/net/loopbackSocket.ts';
import { MixRouter } from './logic/MixRouter.ts';
import { MixTick, SHARED, slotSource } from './logic/MixTick.ts';
import { OPUS_PAYLOAD_TYPE } from '../base/rtp/payloadTypes.ts';
import type { TopSpeakersOptions } from './logic/TopSpeakers.ts';

const log = createLogger('SpeakerMix');

const RESTART_DELAY_MS = 300;

export interface SpeakerMixOptions {
  bitrateKbps: number;
  /** The loss each encoder's in-band FEC is sized for, in percent (0: none). */
  fecLossPercent: number;
  /** Where the shared mix goes for viewers and recordings. */
  everyonePort: number;
  topSpeakers?: Partial<TopSpeakersOptions>;
  /** Awaited before an encoder starts (the session spreads FFmpeg starts over its ticks). */
  beforeStart?: () => Promise<void>;
}

/**
 * The audio the participants hear, with top-speaker mixing (TopSpeakers.ts): one Opus encoder for
 * the shared mix of the speakers and one per speaker slot (its mix without itself), fed as each
 * tick decides (MixTick.ts); from their RTP, MixRouter sends each listener the one it should
 * hear, as one continuous stream, from this object's loopback socket. Encoders: slots + 1 (at most
 * one slot per listener ever in the room), not one per participant.
 */
export class SpeakerMix {
  readonly #o: SpeakerMixOptions;
  readonly #socket: Socket;
  readonly #router = new MixRouter();
  readonly #ticks: MixTick;
  readonly #slots: (AudioEncoder | undefined)[] = [];
  #shared: AudioEncoder;
  #closed = false;

  static async create(options: SpeakerMixOptions): Promise<SpeakerMix> {
    const socket = await bindLoopbackUdp((error) => log.warn({ err: error }, 'mix socket error'));
    return new SpeakerMix(options, socket);
  }

  private constructor(options: SpeakerMixOptions, socket: Socket) {
    this.#o = options;
    this.#socket = socket;
    this.#ticks = new MixTick(options.topSpeakers);
    this.#shared = this.#startEncoder(SHARED);
    this.#router.addListener(EVERYONE, options.everyonePort, SHARED);
  }

  /** A participant who hears the mix at `port`: it hears the shared mix until it speaks. */
  addListener(id: string, port: number): void {
    if (this.#closed || !this.#ticks.addListener(id)) return;
    this.#router.addListener(id, port, SHARED);
    while (this.#slots.length < this.#ticks.slotsWanted) {
      const slot = this.#slots.length;
      this.#slots.push(undefined);
      void (this.#o.beforeStart?.() ?? Promise.resolve()).then(() => {
        if (!this.#closed) this.#slots[slot] = this.#startEncoder(slotSource(slot));
      });
    }
  }

  /** A participant left: out of the mix and of the listeners. */
  remove(id: string): void {
    this.#ticks.remove(id);
    this.#router.removeListener(id);
  }

  /** Speaker ids by slot (undefined: a free slot). */
  get speakers(): readonly (string | undefined)[] {
    return this.#ticks.speakers;
  }

  /** One 20 ms tick: who speaks (from the previous tick's levels), the mixes, the encoders. */
  tick(mixer: AudioMixer, now: number): void {
    if (this.#closed) return;
    const { tick, changes, routes, voices, ownMixes, slots } = this.#ticks.next(mixer.levels(), now);
    for (const change of changes) log.debug({ ...change, tick }, 'speaker slot changed');
    for (const { id, source, fromTick } of routes) this.#router.route(id, source, fromTick);
    const mixes = mixer.mix(ownMixes, voices);
    if (this.#shared.write(mixes.get(EVERYONE)!)) this.#router.wrote(SHARED, tick);
    slots.forEach((id, slot) => {
      const pcm = id === undefined ? undefined : mixes.get(id);
      if (pcm && this.#slots[slot]?.write(pcm)) this.#router.wrote(slotSource(slot), tick);
    });
  }

  #startEncoder(source: string): AudioEncoder {
    const ssrc = randomInt(1, 0x7fffffff);
    const encoder = new AudioEncoder(source, { bitrateKbps: this.#o.bitrateKbps, fecLossPercent: this.#o.fecLossPercent, output: { payloadType: OPUS_PAYLOAD_TYPE, ssrc } });
    encoder.on('rtp', (packet) => {
      for (const { port, packet: out } of this.#router.process(packet)) this.#socket.send(out, port, '127.0.0.1');
    });
    this.#router.setSource(source, ssrc);
    encoder.on('died', (error) => {
      log.warn({ err: error.message, source }, 'mix encoder died; restarting');
      setTimeout(() => {
        if (this.#closed) return;
        const next = this.#startEncoder(source);
        if (source === SHARED) this.#shared = next;
        else this.#slots[this.#slots.indexOf(encoder)] = next;
      }, RESTART_DELAY_MS);
    });
    return encoder;
  }

  /** PCM frames the encoders could not take in time (dropped before encoding). */
  get encoderFramesDropped(): number {
    return [this.#shared, ...this.#slots].reduce((n, e) => n + (e?.dropped ?? 0), 0);
  }

  toJSON(): Record<string, unknown> {
    return { encoders: 1 + this.#slots.length, speakers: this.#ticks.toJSON(), router: this.#router.toJSON() };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.#shared.close(), ...this.#slots.map((e) => e?.close())]);
    this.#socket.close();
  }
}
