import { createSocket } from 'node:dgram';
import { ntpTimeToEpochMs, RTCPeerConnection, RtcpSrPacket } from 'werift';
import { afterEach, describe, expect, it } from 'vitest';
import { OutgoingStream } from '../../src/peers/OutgoingStream.ts';
import { peerConfig } from '../../src/peers/peerConfig.ts';
import { readSsrc, writeSeqAndTimestamp } from '../../src/rtp/rtpHeader.ts';
import { readVp8Capture } from '../helpers/rtpCapture.ts';
import { sleep, until } from '../helpers/wait.ts';

/**
 * The composite and the mix as a browser gets them, through real werift peers on loopback: the
 * RTCP sender reports of both streams map their RTP timestamps onto one wall clock, the one at
 * which each packet left the server. A browser puts the two in sync with these mappings; with
 * werift's NTP fraction written in decimal digits they were up to a second off (the patch).
 */

const network = { hostAddresses: ['127.0.0.1'], iceServers: [] };
/** Loopback and two event loops between a packet's send and its arrival, on a busy machine. */
const TOLERANCE_MS = 30;

describe('sender reports of the composite and the mix', () => {
  const closers: (() => unknown)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  it('map both streams RTP timestamps onto the wall clock at which their packets left', async () => {
    const composite = await OutgoingStream.create({ kind: 'video', label: 'composite' });
    const mix = await OutgoingStream.create({ kind: 'audio', label: 'mix' });
    closers.push(() => composite.close(), () => mix.close());
    const server = new RTCPeerConnection(peerConfig(network));
    const client = new RTCPeerConnection(peerConfig(network));
    closers.push(() => client.close(), () => server.close());
    server.addTransceiver(mix.attach(), { direction: 'sendonly' });
    server.addTransceiver(composite.attach(), { direction: 'sendonly' });
    /** Arrival (wall clock) of each packet the client received, by SSRC and RTP timestamp. */
    const arrivals = new Map<string, number>();
    const reports: { ssrc: number; ntpMs: number; rtp: number; at: number }[] = [];
    client.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => {
        const key = `${rtp.header.ssrc}:${rtp.header.timestamp}`;
        if (!arrivals.has(key)) arrivals.set(key, Date.now());
      });
    });
    await server.setLocalDescription(await server.createOffer());
    await client.setRemoteDescription(server.localDescription!);
    await client.setLocalDescription(await client.createAnswer());
    await server.setRemoteDescription(client.localDescription!);
    await until(async () => (client.connectionState === 'connected' && server.connectionState === 'connected' ? true : undefined), 15_000, 'connected');
    client.getTransceivers()[0]!.dtlsTransport.onRtcp.subscribe((rtcp) => {
      if (rtcp instanceof RtcpSrPacket) {
        reports.push({ ssrc: rtcp.ssrc, ntpMs: ntpTimeToEpochMs(rtcp.senderInfo.ntpTimestamp), rtp: rtcp.senderInfo.rtpTimestamp, at: Date.now() });
      }
    });

    // A compositor's frames at 30 fps (the captured keyframe, renumbered) and an encoder's 20 ms Opus frames.
    const keyframe = readVp8Capture().slice(0, 7);
    composite.expect(readSsrc(keyframe[0]!));
    const socket = createSocket('udp4');
    closers.push(() => socket.close());
    const send = (packet: Buffer, port: number): void => void socket.send(packet, port, '127.0.0.1');
    const opus = Buffer.alloc(12 + 40);
    opus[0] = 0x80;
    opus[1] = 111;
    opus.writeUInt32BE(0x1234, 8);
    let seq = 0;
    const start = Date.now();
    for (let tick = 0; Date.now() - start < 4000 && reports.filter((r) => r.ssrc !== reports[0]?.ssrc).length < 2; tick++) {
      if (tick % 3 === 0) {
        for (const packet of keyframe) {
          const copy = Buffer.from(packet);
          writeSeqAndTimestamp(copy, seq++ & 0xffff, (tick / 3) * 3000);
          send(copy, composite.port);
        }
      }
      const audio = Buffer.from(opus);
      writeSeqAndTimestamp(audio, tick & 0xffff, tick * 320);
      send(audio, mix.port);
      await sleep(1000 / 150);
    }
    const kinds = new Map(server.getTransceivers().map((t) => [t.sender.ssrc, t.kind]));
    const checked = reports.filter((r) => arrivals.has(`${r.ssrc}:${r.rtp}`));
    const errors = checked.map((r) => ({ kind: kinds.get(r.ssrc), errorMs: r.ntpMs - arrivals.get(`${r.ssrc}:${r.rtp}`)! }));
    console.log(`sender reports: ${JSON.stringify(errors)}`);
    expect(new Set(errors.map((e) => e.kind))).toEqual(new Set(['audio', 'video']));
    for (const { errorMs } of errors) expect(Math.abs(errorMs)).toBeLessThan(TOLERANCE_MS);
  }, 30_000);
});
