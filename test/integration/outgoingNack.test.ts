import { createSocket } from 'node:dgram';
import {
  GenericNack,
  RTCPeerConnection,
  RtcpTransportLayerFeedback,
  type MediaStreamTrack,
  type RtpPacket,
} from 'werift';
import { afterEach, describe, expect, it } from 'vitest';
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
    const socket = createSocket('udp4');
    closers.push(() => void socket.close());
    for (const packet of packets) {
      await new Promise<void>((resolve, reject) => socket.send(packet, stream.port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    }
    for (const v of viewers) await until(async () => (v.received.length >= packets.length ? true : undefined), 10_000, 'every packet at both viewers');

    for (const [i, viewer] of viewers.entries()) {
      const lost = viewer.received[3 + i]!;
      const before = viewer.received.length;
      await nack(viewer, lost.header.sequenceNumber);
      const resent = await until(
        async () => viewer.received.slice(before).find((p) => p.header.sequenceNumber === lost.header.sequenceNumber),
        5000,
        `viewer ${i}'s retransmission of ${lost.header.sequenceNumber}`,
      );
      expect(resent.header.ssrc).toBe(viewer.ssrc);
      expect(resent.header.timestamp).toBe(lost.header.timestamp);
      expect(Buffer.compare(resent.payload, lost.payload)).toBe(0);
    }
    // Neither viewer was sent the other's retransmission.
    for (const v of viewers) expect(v.received.every((p) => p.header.ssrc === v.ssrc)).toBe(true);
  });
});
