import { createSocket } from 'node:dgram';
import {
  GenericNack,
  RTCPeerConnection,
  RtcpTransportLayerFeedback,
  type MediaStreamTrack,
  type RtpPacket,
} from 'werift';
import { afterEach, describe, expect, it } from 'vitest';
import { ViewerChain } from '../../src/media/outgoing/ViewerChain.ts';
import { OutgoingStream } from '../../src/peers/OutgoingStream.ts';
import { peerConfig } from '../../src/peers/peerConfig.ts';
import { readSsrc } from '../../src/rtp/rtpHeader.ts';
import { readVp8Capture } from '../helpers/rtpCapture.ts';
import { until } from '../helpers/wait.ts';

/**
 * Two viewers of one composite, each a real werift peer pair on loopback (the server's sender,
 * the viewer's receiver): a NACK from either viewer is answered on that viewer's own SSRC with
 * the payload it lost. werift's sender rewrites the packet object it is given and keeps it for
 * retransmission; when the viewers' senders shared one track they shared one object, and only
 * the last viewer's NACKs were answered with its SSRC.
 */

const network = { hostAddresses: ['127.0.0.1'], iceServers: [] };

interface Viewer {
  server: RTCPeerConnection;
  client: RTCPeerConnection;
  /** The SSRC the server's sender uses towards this viewer. */
  ssrc: number;
  received: RtpPacket[];
}

async function connectViewer(track: MediaStreamTrack): Promise<Viewer> {
  const server = new RTCPeerConnection(peerConfig(network));
  const client = new RTCPeerConnection(peerConfig(network));
  const sending = server.addTransceiver(track, { direction: 'sendonly' });
  const received: RtpPacket[] = [];
  client.onTrack.subscribe((remote) => {
    remote.onReceiveRtp.subscribe((rtp) => received.push(rtp.clone()));
  });
  await server.setLocalDescription(await server.createOffer());
  await client.setRemoteDescription(server.localDescription!);
  await client.setLocalDescription(await client.createAnswer());
  await server.setRemoteDescription(client.localDescription!);
  await until(async () => (server.connectionState === 'connected' && client.connectionState === 'connected' ? true : undefined), 15_000, 'peers connected');
  return { server, client, ssrc: sending.sender.ssrc, received };
}

/** Sends each packet to a stream's loopback port, as a compositor does. */
async function sendTo(stream: OutgoingStream, packets: Buffer[]): Promise<void> {
  const socket = createSocket('udp4');
  try {
    for (const packet of packets) {
      await new Promise<void>((resolve, reject) => socket.send(packet, stream.port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    }
  } finally {
    socket.close();
  }
}

/** NACKs the packet at `index` of what `viewer` received; returns it and its retransmission. */
async function nackAndResend(viewer: Viewer, index: number, name: string): Promise<{ lost: RtpPacket; resent: RtpPacket }> {
  const lost = viewer.received[index]!;
  const before = viewer.received.length;
  await nack(viewer, lost.header.sequenceNumber);
  const resent = await until(
    async () => viewer.received.slice(before).find((p) => p.header.sequenceNumber === lost.header.sequenceNumber),
    5000,
    `${name}'s retransmission of ${lost.header.sequenceNumber}`,
  );
  return { lost, resent };
}

/** Sends a NACK (RFC 4585 §6.2.1) for `seq` from the viewer's side. */
async function nack(viewer: Viewer, seq: number): Promise<void> {
  const transceiver = viewer.client.getTransceivers()[0]!;
  const feedback = new GenericNack({ senderSsrc: transceiver.receiver.rtcpSsrc, mediaSourceSsrc: viewer.ssrc, lost: [seq] });
  await transceiver.dtlsTransport.sendRtcp([new RtcpTransportLayerFeedback({ feedback })]);
}

describe('each viewer of a composite gets its own packets', () => {
  const closers: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  it('answers a NACK from each of two viewers on its own SSRC, with the payload it lost', async () => {
    const stream = await OutgoingStream.create({ kind: 'video', label: 'test composite' });
    closers.push(() => stream.close());
    const viewers = [await connectViewer(stream.attach()), await connectViewer(stream.attach())];
    for (const v of viewers) closers.push(() => v.client.close(), () => v.server.close());
    expect(viewers[0]!.ssrc).not.toBe(viewers[1]!.ssrc);

    // The captured VP8 keyframe and two delta frames, as a compositor sends them.
    const packets = readVp8Capture();
    stream.expect(readSsrc(packets[0]!));
    await sendTo(stream, packets);
    for (const v of viewers) await until(async () => (v.received.length >= packets.length ? true : undefined), 10_000, 'every packet at both viewers');

    for (const [i, viewer] of viewers.entries()) {
      const { lost, resent } = await nackAndResend(viewer, 3 + i, `viewer ${i}`);
      expect(resent.header.ssrc).toBe(viewer.ssrc);
      expect(resent.header.timestamp).toBe(lost.header.timestamp);
      expect(Buffer.compare(resent.payload, lost.payload)).toBe(0);
    }
    // Neither viewer was sent the other's retransmission.
    for (const v of viewers) expect(v.received.every((p) => p.header.ssrc === v.ssrc)).toBe(true);
  });

  it('answers each of two viewers on different sources on its own SSRC with its own payload (one moved by its chain)', async () => {
    const [first, second] = [
      await OutgoingStream.create({ kind: 'video', label: 'test composite' }),
      await OutgoingStream.create({ kind: 'video', label: 'test composite, another rendition' }),
    ];
    closers.push(() => first.close(), () => second.close());
    const chains = [new ViewerChain(first), new ViewerChain(first)];
    closers.push(...chains.map((chain) => () => chain.close()));
    const viewers = [await connectViewer(chains[0]!.track), await connectViewer(chains[1]!.track)];
    for (const v of viewers) closers.push(() => v.client.close(), () => v.server.close());
    // The second viewer moves to the other source: from its first keyframe on, it sees that one only.
    chains[1]!.switchTo(second);

    // The same capture through both sources, the second's with other bytes at the end of each payload and another SSRC.
    const packets = readVp8Capture();
    const altered = packets.map((packet) => {
      const copy = Buffer.from(packet);
      copy.writeUInt32BE((readSsrc(packet) + 1) >>> 0, 8);
      copy[copy.length - 1]! ^= 0xff;
      return copy;
    });
    first.expect(readSsrc(packets[0]!));
    second.expect(readSsrc(altered[0]!));
    await sendTo(first, packets);
    await sendTo(second, altered);
    for (const v of viewers) await until(async () => (v.received.length >= packets.length ? true : undefined), 10_000, 'every packet at both viewers');
    expect(chains[1]!.source).toBe(second.id);

    const answers = [await nackAndResend(viewers[0]!, 3, 'the first viewer'), await nackAndResend(viewers[1]!, 3, 'the second viewer')];
    for (const [i, { lost, resent }] of answers.entries()) {
      expect(resent.header.ssrc).toBe(viewers[i]!.ssrc);
      expect(Buffer.compare(resent.payload, lost.payload)).toBe(0);
    }
    // Their own payloads: the same packet of the capture, as each source sent it.
    const [own0, own1] = answers.map((a) => a.resent.payload);
    expect(own0!.at(-1)).toBe(packets[3]!.at(-1));
    expect(own1!.at(-1)).toBe(altered[3]!.at(-1));
    expect(Buffer.compare(own0!, own1!)).not.toBe(0);
  });
});
