import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { probeBoxes } from '../../scripts/bench/browserFigures.ts';
import { launchProbeBrowser, openProbeClient, PROBE_CANVAS, PROBE_SOURCE, probeBotSpec, type ProbeClient } from '../../scripts/bench/browserProbe.ts';
import { BotProcess } from './bots.ts';
import { CHROMIUM_PATH, type LaunchedChromium } from './browser.ts';
import { TestNetwork, type TestClient } from './netns.ts';
import { McuProcess } from './serverProcess.ts';
import { joinToken, TEST_KEY_ENV } from './tokens.ts';

// A room whose viewers sit behind links of their own (README: The ladder): the server and its
// publishing bots in one network namespace, each Chromium viewer in another, joined to the
// server's by a veth pair whose server end a token bucket may shape (test/helpers/netns.ts).
// Every address is inside the namespaces it makes; close() removes them.

const WAIT_MS = 60_000;

/**
 * The page is plain HTTP on a namespace address: treated as secure, as a loopback page is, it may
 * be granted the camera, and Chromium then offers its own address as a candidate (not an mDNS name).
 */
const namespaceChromiumArgs = (origin: string): string[] => [
  `--unsafely-treat-insecure-origin-as-secure=${origin}`,
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

export interface LadderViewerSpec {
  name: string;
  /** Its downlink in kbit/s (a token bucket with a 200 ms queue); undefined: not shaped. */
  kbps?: number;
}

export interface LadderViewer {
  name: string;
  link: TestClient;
  browser: LaunchedChromium;
  probe: ProbeClient;
}

export interface LadderRoomOptions {
  /** A few letters naming the test (namespace and interface names). */
  tag: string;
  dir: string;
  room: string;
  viewers: LadderViewerSpec[];
  /** Bots publishing a timecode picture and a tone (default 2). */
  publishers?: number;
  /** More `mcu serve` arguments (e.g. --ladder). */
  serverArgs?: string[];
}

export class LadderRoom {
  readonly network: TestNetwork;
  readonly viewers: LadderViewer[] = [];
  readonly bots: BotProcess[] = [];
  server: McuProcess | undefined;
  #closed = false;

  private constructor(network: TestNetwork) {
    this.network = network;
  }

  /** Makes the namespaces, starts the server and the bots, then each viewer once the one before shows the composite. */
  static async start(o: LadderRoomOptions): Promise<LadderRoom> {
    const room = new LadderRoom(new TestNetwork(o.tag));
    try {
      await room.#start(o);
      return room;
    } catch (error) {
      await room.close();
      throw error;
    }
  }

  async #start(o: LadderRoomOptions): Promise<void> {
    const links = o.viewers.map(() => this.network.addClient());
    o.viewers.forEach((spec, i) => spec.kbps !== undefined && this.network.shapeDownlink(links[i]!, spec.kbps));
    const inServerNs = ['ip', 'netns', 'exec', this.network.server];
    this.server = new McuProcess(
      [
        'serve', '--host', '0.0.0.0', '--port', '0', '--no-tls', '--recordings', join(o.dir, 'recordings'),
        // Loopback for the bots beside it, and its address on each viewer's link.
        '--announced-address', '127.0.0.1', ...links.map((link) => link.serverIp),
        ...(o.serverArgs ?? []),
      ],
      // MCU_SERVER_LOG_LEVEL=info shows each viewer's rung changes and why (LadderRoom.serverLines).
      { ...TEST_KEY_ENV, ...(process.env.MCU_SERVER_LOG_LEVEL ? { MCU_LOG_LEVEL: process.env.MCU_SERVER_LOG_LEVEL } : {}) },
      inServerNs,
    );
    const port = Number((await this.server.waitForLine(/^Mixer running at https?:\/\/[^:]+:(\d+)\//, 30_000))[1]);
    const publishers = o.publishers ?? 2;
    for (let i = 0; i < publishers; i++) {
      const bot = new BotProcess(probeBotSpec(i, `ws://127.0.0.1:${port}/socket`, o.room, { token: await joinToken(o.room, {}, { identity: `bot${i}` }), wrapper: inServerNs }));
      this.bots.push(bot);
      await bot.waitFor((e) => e.event === 'connected', WAIT_MS, 'connected');
    }
    const boxes = probeBoxes(PROBE_SOURCE, PROBE_CANVAS, publishers);
    for (const [i, spec] of o.viewers.entries()) {
      const link = links[i]!;
      const wrapper = join(o.dir, `chromium-${link.ns}`);
      writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${link.ns} ${CHROMIUM_PATH} "$@"\n`);
      chmodSync(wrapper, 0o755);
      const httpUrl = `http://${link.serverIp}:${port}`;
      const browser = await launchProbeBrowser(httpUrl, { executablePath: wrapper, args: namespaceChromiumArgs(httpUrl), logPrefix: spec.name });
      const probe = await openProbeClient(browser, {
        httpUrl,
        room: o.room,
        name: spec.name,
        publish: false,
        boxes,
        listen: false,
        token: await joinToken(o.room, {}, { identity: spec.name }),
      });
      this.viewers.push({ name: spec.name, link, browser, probe });
      const deadline = Date.now() + WAIT_MS;
      while ((await probe.summary()).marks.firstFrame === undefined) {
        if (Date.now() > deadline) throw new Error(`${spec.name} showed no composite within ${WAIT_MS / 1000} s: ${(await probe.summary()).errors.join('; ')}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  /** Sets viewer `i`'s downlink to `kbps` (undefined: not shaped), with a queue of `queueMs`. */
  shape(i: number, kbps: number | undefined, queueMs?: number): void {
    const link = this.viewers[i]!.link;
    if (kbps === undefined) this.network.unshapeDownlink(link);
    else this.network.shapeDownlink(link, kbps, queueMs);
  }

  /** Closes the browsers, the bots and the server, and removes the namespaces. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const viewer of this.viewers) await viewer.browser.close().catch(() => {});
    await Promise.all(this.bots.map((bot) => bot.stop()));
    await this.server?.stop();
    this.network.remove();
  }
}
