import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { beforeAllOrFail } from '../helpers/setUpOrFail.ts';
import { CHROMIUM_PATH, chromiumDescendants, inboundOver, isAlive, launchChromium, pageRtpStats, pageState, trustCertificateArgs, type LaunchedChromium } from '../helpers/browser.ts';
import { descendants } from '../helpers/processes.ts';
import { McuProcess } from '../helpers/serverProcess.ts';
import { joinToken, TEST_KEY_ENV } from '../helpers/tokens.ts';
import { until } from '../helpers/wait.ts';

// A client behind a firewall that lets through nothing but TURN (README, "TURN"): Chromium runs in
// a network namespace whose only link leads to the mixer's namespace, where it can reach the page
// (HTTPS) and coturn, but not the mixer's media, which is on that namespace's loopback. With
// iceTransportPolicy 'relay' it joins, and the composite and the mix reach it through coturn's
// relay. The TURN credentials it was given stop working when they expire. The test makes the two
// namespaces and removes them; every address it uses is inside them.

const ID = process.pid % 100000;
const NS_SERVER = `mcu13s${ID}`;
const NS_CLIENT = `mcu13c${ID}`;
const VETH_SERVER = `m13s${ID}`;
const VETH_CLIENT = `m13c${ID}`;
const SERVER_IP = '10.213.0.1';
const CLIENT_IP = '10.213.0.2';
const TURN_PORT = 3478;
const TURN_SECRET = 'coturn-static-auth-secret-for-the-test';
/** Long enough for a first allocation right after the join on a busy machine, short enough to wait out. */
const TURN_TTL_SECONDS = 30;
const ROOM = 'relayed';
const WAIT_MS = 60_000;

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Makes the two namespaces, joined by one veth pair; no address outside them. */
function makeNetwork(): void {
  ip('netns', 'add', NS_SERVER);
  ip('netns', 'add', NS_CLIENT);
  ip('link', 'add', VETH_SERVER, 'type', 'veth', 'peer', 'name', VETH_CLIENT);
  ip('link', 'set', VETH_SERVER, 'netns', NS_SERVER);
  ip('link', 'set', VETH_CLIENT, 'netns', NS_CLIENT);
  ip('-n', NS_SERVER, 'addr', 'add', `${SERVER_IP}/30`, 'dev', VETH_SERVER);
  ip('-n', NS_CLIENT, 'addr', 'add', `${CLIENT_IP}/30`, 'dev', VETH_CLIENT);
  for (const [ns, dev] of [[NS_SERVER, VETH_SERVER], [NS_CLIENT, VETH_CLIENT]] as const) {
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'link', 'set', dev, 'up');
  }
}

function removeNetwork(): void {
  // Deleting a namespace deletes the veth end inside it, and with it the other end.
  for (const ns of [NS_CLIENT, NS_SERVER]) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // never made
    }
  }
}

/** coturn as the README shows it, with the loopback flags of a test: its relay talks to the mixer on loopback. */
function turnArgs(dir: string): string[] {
  return [
    '-n', // no configuration file
    '--listening-ip', SERVER_IP,
    '--listening-port', String(TURN_PORT),
    '--relay-ip', '127.0.0.1',
    '--allow-loopback-peers',
    '--no-cli',
    '--use-auth-secret',
    '--static-auth-secret', TURN_SECRET,
    '--realm', 'mcu.test',
    '--fingerprint',
    '--no-tls',
    '--no-dtls',
    '--no-tcp-relay',
    '--min-port', '49160',
    '--max-port', '49260',
    '--userdb', join(dir, 'turndb'),
    '--pidfile', join(dir, 'turnserver.pid'),
    // A file, written line by line (its stdout is block-buffered in a pipe).
    '--log-file', join(dir, 'turnserver.log'),
    '--simple-log',
    '--verbose',
  ];
}

/** Forces relay-only ICE in every peer connection of the page, as a client behind such a firewall would set it, and keeps each configuration. */
const RELAY_ONLY = `
  (() => {
    const Native = window.RTCPeerConnection;
    window.__iceConfigs = [];
    window.RTCPeerConnection = class extends Native {
      constructor(config) {
        const relayOnly = { ...(config || {}), iceTransportPolicy: 'relay' };
        window.__iceConfigs.push(relayOnly);
        super(relayOnly);
      }
    };
  })();
`;

interface IceServerSeen {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** Gathers with `iceServers` in a new relay-only peer connection: the relay candidates it got, and the errors. */
function probeRelay(page: Page, iceServers: IceServerSeen[]): Promise<{ relays: string[]; errors: string[] }> {
  return page.evaluate(async (servers) => {
    const pc = new RTCPeerConnection({ iceServers: servers, iceTransportPolicy: 'relay' });
    const relays: string[] = [];
    const errors: string[] = [];
    pc.addEventListener('icecandidate', (e) => {
      if (e.candidate && / typ relay /.test(e.candidate.candidate)) relays.push(e.candidate.candidate);
    });
    pc.addEventListener('icecandidateerror', (e) => errors.push(`${(e as RTCPeerConnectionIceErrorEvent).errorCode} ${(e as RTCPeerConnectionIceErrorEvent).errorText}`));
    pc.createDataChannel('probe');
    await pc.setLocalDescription(await pc.createOffer());
    const deadline = Date.now() + 10_000;
    while (pc.iceGatheringState !== 'complete' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    pc.close();
    return { relays, errors };
  }, iceServers);
}

/** The candidate pair the page's call uses: the types and addresses of both ends. */
function selectedPair(page: Page): Promise<{ local: string; remote: string } | null> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { mcu?: { pc: RTCPeerConnection | null } }).mcu?.pc;
    if (!pc) return null;
    const byId = new Map<string, Record<string, unknown>>();
    (await pc.getStats()).forEach((value: unknown) => {
      const r = value as Record<string, unknown>;
      byId.set(String(r.id), r);
    });
    const transport = [...byId.values()].find((r) => r.type === 'transport' && r.selectedCandidatePairId);
    const pair = transport && byId.get(String(transport.selectedCandidatePairId));
    if (!pair) return null;
    const describe = (id: unknown): string => {
      const c = byId.get(String(id));
      return c ? `${String(c.candidateType)} ${String(c.address ?? c.ip)}` : 'unknown';
    };
    return { local: describe(pair.localCandidateId), remote: describe(pair.remoteCandidateId) };
  });
}

describe('TURN: a client that can reach only the TURN server', () => {
  let dir: string;
  let turn: ChildProcess | undefined;
  const turnLog = (): string => {
    try {
      return readFileSync(join(dir, 'turnserver.log'), 'utf8');
    } catch {
      return '';
    }
  };
  let mixer: McuProcess | undefined;
  let url = '';
  let browser: LaunchedChromium | undefined;

  const throwSetupError = beforeAllOrFail(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcu-turn-'));
    makeNetwork();
    turn = spawn('ip', ['netns', 'exec', NS_SERVER, 'turnserver', ...turnArgs(dir)], { stdio: 'ignore' });
    await until(() => {
      if (/Total General servers/.test(turnLog())) return true;
      if (turn?.exitCode !== null) throw new Error(`turnserver exited: ${turnLog().slice(-2000)}`);
      return undefined;
    }, 15_000, 'coturn to start');

    mixer = new McuProcess(
      [
        'serve', '--host', SERVER_IP, '--port', '0',
        // Its media only on its namespace's loopback: the client has no way there but the relay.
        '--announced-address', '127.0.0.1',
        '--recordings', join(dir, 'recordings'),
        '--turn-url', `turn:${SERVER_IP}:${TURN_PORT}?transport=udp`,
        '--turn-secret', TURN_SECRET,
        '--turn-ttl', `${TURN_TTL_SECONDS}s`,
      ],
      TEST_KEY_ENV,
      ['ip', 'netns', 'exec', NS_SERVER],
    );
    url = (await mixer.waitForLine(/^Mixer running at (https:\/\/10\.213\.0\.1:\d+\/)$/, 30_000))[1]!;

    const wrapper = join(dir, 'chromium-in-namespace');
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${NS_CLIENT} ${CHROMIUM_PATH} "$@"\n`);
    chmodSync(wrapper, 0o755);
    browser = await launchChromium(new URL(url).origin, 'chromium-turn', {
      executablePath: wrapper,
      args: trustCertificateArgs(readFileSync(join(dir, 'tls', 'self-signed.crt'), 'utf8')),
    });
    await browser.context.addInitScript({ content: RELAY_ONLY });
  }, 120_000);

  afterAll(async () => {
    const chromiumPids = browser?.pids() ?? [];
    await browser?.close();
    await mixer?.stop();
    if (turn && turn.exitCode === null) {
      const exited = new Promise((resolve) => turn!.once('exit', resolve));
      turn.kill('SIGTERM'); // coturn's own way to stop (it ignores SIGINT)
      const timer = setTimeout(() => turn?.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    removeNetwork();
    if (process.env.KEEP_E2E) console.log(`kept ${dir}`);
    else if (dir) rmSync(dir, { recursive: true, force: true });
    await until(() => (!chromiumPids.some(isAlive) ? true : undefined), 10_000, 'Chromium to exit');
    expect(chromiumDescendants()).toEqual([]);
    expect([...descendants(process.pid).values()].filter((comm) => /turnserver|mcu|ffmpeg|node/.test(comm))).toEqual([]);
    expect(ip('netns', 'list')).not.toMatch(new RegExp(`${NS_SERVER}|${NS_CLIENT}`));
  }, 60_000);

  function ready(): LaunchedChromium {
    throwSetupError();
    return browser!;
  }

  it("the client's namespace has one address and one route: to the /30 it shares with the mixer's", () => {
    ready();
    expect(ip('-n', NS_CLIENT, '-4', 'route', 'show').trim()).toBe(`10.213.0.0/30 dev ${VETH_CLIENT} proto kernel scope link src ${CLIENT_IP}`);
    expect(ip('-n', NS_CLIENT, '-4', '-o', 'addr', 'show').match(/inet \S+/g)).toEqual(['inet 127.0.0.1/8', `inet ${CLIENT_IP}/30`]);
  });

  async function joinPage(name: string, mode: 'camera' | 'microphone'): Promise<{ page: Page; joinedAt: { before: number; after: number } }> {
    const page = await ready().newPage();
    const token = await joinToken(ROOM, {}, { identity: name, name });
    const before = Date.now();
    await page.goto(`${url}?token=${token}&mode=${mode}&autojoin=1`, { timeout: WAIT_MS });
    await until(async () => {
      const s = await pageState(page);
      if (s.state === 'error') throw new Error(`${name} failed to join: ${JSON.stringify(s.error)}`);
      return s.state === 'joined' && s.id ? true : undefined;
    }, WAIT_MS, `${name} to join`, 200);
    return { page, joinedAt: { before, after: Date.now() } };
  }

  it('joins with relay-only ICE, receives the composite and the mix through the relay, and its credentials expire as configured', async () => {
    const { page, joinedAt } = await joinPage('relay-cam', 'camera');
    const configs = await page.evaluate(() => (window as unknown as { __iceConfigs: { iceServers: IceServerSeen[]; iceTransportPolicy: string }[] }).__iceConfigs);
    expect(configs).toHaveLength(1);
    expect(configs[0]!.iceTransportPolicy).toBe('relay');
    const iceServers = configs[0]!.iceServers;
    const turnServer = iceServers.find((s) => String(s.urls).startsWith('turn:'));
    expect(turnServer?.urls).toEqual([`turn:${SERVER_IP}:${TURN_PORT}?transport=udp`]);
    const expiry = Number(turnServer!.username!.split(':')[0]);
    expect(expiry).toBeGreaterThanOrEqual(Math.floor(joinedAt.before / 1000) + TURN_TTL_SECONDS);
    expect(expiry).toBeLessThanOrEqual(Math.ceil(joinedAt.after / 1000) + TURN_TTL_SECONDS);
    // Valid now: a new allocation succeeds.
    const fresh = await probeRelay(page, iceServers);
    expect(fresh.relays.length, `relay candidates before expiry (errors: ${fresh.errors.join('; ')})`).toBeGreaterThan(0);
    expect(Date.now() / 1000, 'the first probe ran before the credentials expired').toBeLessThan(expiry);

    // A second client, microphone only: its voice is what the first hears in its mix.
    const { page: mic } = await joinPage('relay-mic', 'microphone');
    for (const p of [page, mic]) {
      await until(async () => ((await pageState(p)).connectionState === 'connected' ? true : undefined), WAIT_MS, 'ICE through the relay to connect', 200);
    }
    const pair = await selectedPair(page);
    console.log(`selected candidate pair: ${JSON.stringify(pair)}; mic page: ${JSON.stringify(await selectedPair(mic))}`);
    expect(pair?.local).toMatch(/^relay /);
    expect(pair?.remote).toBe('host 127.0.0.1');
    expect((await selectedPair(mic))?.local).toMatch(/^relay /);

    const { first, then: { video, audio } } = await inboundOver(page, 5000, WAIT_MS, 'the composite and the mix through the relay');
    console.log(
      `through the relay: +${video.framesDecoded - first.video.framesDecoded} composite frames in 5 s (${video.frameWidth}x${video.frameHeight}), ` +
        `mix +${audio.totalSamplesReceived - first.audio.totalSamplesReceived} samples`,
    );
    expect(video.framesDecoded - first.video.framesDecoded).toBeGreaterThan(30);
    // The composite at one of its rungs: the relay through coturn on a loaded machine may carry less
    // than 720p's rate, and the ladder then rightly steps this viewer down.
    expect([1280, 640, 320]).toContain(video.frameWidth);
    expect(audio.totalSamplesReceived - first.audio.totalSamplesReceived).toBeGreaterThan(2 * 48_000);
    // The other page's fake microphone beeps now and then: its beeps are in the mix (well above the noise of silence).
    const beeped = await until(async () => {
      const now = (await pageRtpStats(page))?.inbound.find((r) => r.kind === 'audio');
      return now && now.totalAudioEnergy - first.audio.totalAudioEnergy > 1e-3 ? now.totalAudioEnergy - first.audio.totalAudioEnergy : undefined;
    }, WAIT_MS, "the other page's beeps in the mix", 250);
    console.log(`mix energy from the other page: +${beeped.toExponential(2)}`);
    // coturn saw the allocation of exactly these credentials.
    expect(turnLog()).toContain(`user <${turnServer!.username}>: incoming packet ALLOCATE processed, success`);

    // Once expired, the same credentials get no new allocation.
    await until(() => (Date.now() / 1000 > expiry + 1 ? true : undefined), (TURN_TTL_SECONDS + 5) * 1000, 'the credentials to expire', 250);
    const stale = await probeRelay(page, iceServers);
    console.log(`after expiry: ${stale.relays.length} relay candidates; errors: ${stale.errors.join('; ')}`);
    expect(stale.relays).toEqual([]);
    expect(stale.errors.some((e) => e.startsWith('401'))).toBe(true);
    await mic.close();
    await page.close();
  }, 300_000);
});
