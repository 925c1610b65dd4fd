/**
 * The server's part of the media path, alone in a process of its own for `crossings.ts` to
 * measure: every RTP packet of the publisher is sent on to each decoder's loopback port (as a
 * participant's media is forwarded), and the composite coming back is passed on to the probe, one
 * SSRC at a time (as the stream switcher does). It also echoes datagrams on a third socket, to
 * time a loopback hop. Started with IPC: `{ destinations, active }` messages steer it.
 */
import { createSocket } from 'node:dgram';
import { z } from 'zod';

const Steer = z.object({ destinations: z.array(z.number().int()).optional(), active: z.number().int().optional(), probePort: z.number().int().optional() });

const send = process.send?.bind(process);
if (!send) throw new Error('crossingsRelay runs only as a child process with an IPC channel');
const [compositePort] = process.argv.slice(2).map(Number);

let destinations: number[] = [];
let active: number | undefined;
let probePort: number | undefined;

const publisher = createSocket('udp4');
publisher.on('message', (packet) => {
  for (const port of destinations) publisher.send(packet, port, '127.0.0.1');
});

const composite = createSocket('udp4');
composite.on('message', (packet) => {
  if (probePort === undefined || packet.length < 12 || packet.readUInt32BE(8) !== active) return;
  composite.send(packet, probePort, '127.0.0.1');
});

const echo = createSocket('udp4');
echo.on('message', (packet, from) => echo.send(packet, from.port, from.address));

// A port nobody listens on yet (a decoder starting) answers with ICMP, which shows as an error here.
for (const socket of [publisher, composite, echo]) socket.on('error', () => {});

process.on('message', (raw) => {
  const steer = Steer.parse(raw);
  if (steer.destinations) destinations = steer.destinations;
  if (steer.active !== undefined) active = steer.active;
  if (steer.probePort !== undefined) probePort = steer.probePort;
});
process.on('disconnect', () => process.exit(0));

const bound = (socket: ReturnType<typeof createSocket>, port = 0): Promise<number> =>
  new Promise((resolve) => socket.bind(port, '127.0.0.1', () => resolve(socket.address().port)));
const ports = { publisher: await bound(publisher), composite: await bound(composite, compositePort), echo: await bound(echo) };
send({ ready: ports });
