import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { RgbFrame } from './media.ts';
import { descendants } from './processes.ts';
export { isAlive } from '../../base/process/procStats.ts';
import { sleep, until } from './wait.ts';

/** Debian's Chromium (README, "Dependencies and why"): a test tool's own download fails here. */
export const CHROMIUM_PATH = process.env.MCU_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  // Without these its outgoing connections are refused here, many at a time.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // A 127.0.0.1 host candidate, only with this flag and camera/microphone permission granted.
  '--allow-loopback-in-peer-connection',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
];

/** Throws (so the test fails, never skips) when Chromium is not installed. */
export function assertChromiumInstalled(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: run scripts/setup.sh --test (it installs Debian's chromium)`);
  }
}

/** A Chromium with a fresh profile in a temporary directory, removed again by close(). */
export interface LaunchedChromium {
  readonly context: BrowserContext;
  readonly userDataDir: string;
  /**
   * PIDs of the Chromium processes (the browser and its helpers) seen so far for this browser;
   * each call looks again and adds the ones started since (renderers come and go).
   */
  pids(): number[];
  newPage(): Promise<Page>;
  /** Closes the browser and removes the profile. Idempotent. */
  close(): Promise<void>;
}

/**
 * Flags that make Chromium trust one self-signed server certificate, by its public key (SPKI
 * SHA-256), as a user who checked its fingerprint would; nothing else is trusted that was not.
 */
export function trustCertificateArgs(certPem: string): string[] {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return [`--ignore-certificate-errors-spki-list=${createHash('sha256').update(spki).digest('base64')}`];
}

/** Launches Chromium with camera and microphone granted to `origin` (needed for loopback ICE). */
export async function launchChromium(
  origin: string,
  logPrefix = 'chromium',
  /** Extra flags, and another executable (e.g. a wrapper that starts Chromium in a network namespace). */
  options: { args?: string[]; executablePath?: string } = {},
): Promise<LaunchedChromium> {
  assertChromiumInstalled();
  const before = new Set(chromiumDescendants());
  let closing: Promise<void> | undefined;
  const userDataDir = mkdtempSync(join(tmpdir(), 'mcu-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: options.executablePath ?? CHROMIUM_PATH,
      args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
      // Our own --headless=new is in args; Playwright's default would add the old mode.
      headless: true,
      viewport: { width: 1280, height: 800 },
      timeout: 30_000,
    });
  } catch (error) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw error;
  }
  const seen = new Set<number>();
  const look = (): number[] => {
    if (!closing) for (const pid of chromiumDescendants()) if (!before.has(pid)) seen.add(pid);
    return [...seen];
  };
  look();
  await context.grantPermissions(['camera', 'microphone'], { origin });
  // tsx/vitest compile with esbuild's keepNames: a named function inside page.evaluate() calls
  // a `__name` helper that exists only in Node. Give the page a no-op one.
  await context.addInitScript({ content: 'globalThis.__name = globalThis.__name || ((f) => f);' });
  return {
    context,
    userDataDir,
    pids: look,
    async newPage(): Promise<Page> {
      const page = await context.newPage();
      page.on('console', (msg) => {
        if (msg.type() === 'error' || msg.type() === 'warning') console.log(`[${logPrefix} ${msg.type()}] ${msg.text()}`);
      });
      page.on('pageerror', (error) => console.log(`[${logPrefix} pageerror] ${error.message}`));
      return page;
    },
    close(): Promise<void> {
      look();
      closing ??= (async () => {
        try {
          await context.close();
        } finally {
          rmSync(userDataDir, { recursive: true, force: true });
        }
      })();
      return closing;
    },
  };
}

/** PIDs of live Chromium processes that descend from this process. */
export function chromiumDescendants(root = process.pid): number[] {
  return [...descendants(root)].filter(([, comm]) => /chrom/i.test(comm)).map(([pid]) => pid);
}

/** The page's handle on its call (web/app.js); a type only, so evaluate() bodies may use it. */
interface McuWindow {
  mcu?: { pc: RTCPeerConnection | null };
}

/** What the test reads from `pc.getStats()` in the page (only the fields it asserts on). */
export interface PageRtpStats {
  connectionState: string;
  inbound: { kind: string; framesDecoded: number; packetsReceived: number; totalSamplesReceived: number; totalAudioEnergy: number; bytesReceived: number; frameWidth: number; frameHeight: number; freezeCount: number; totalFreezesDuration: number }[];
  outbound: { kind: string; packetsSent: number; bytesSent: number }[];
}

/**
 * Runs `pc.getStats()` in the page and returns the inbound and outbound RTP streams.
 * (No named functions inside evaluate(): see the `__name` note in launchChromium.)
 */
export function pageRtpStats(page: Page): Promise<PageRtpStats | null> {
  return page.evaluate(async () => {
    const pc = (window as unknown as McuWindow).mcu?.pc;
    if (!pc) return null;
    const report = await pc.getStats();
    const result: PageRtpStats = { connectionState: pc.connectionState, inbound: [], outbound: [] };
    report.forEach((value: unknown) => {
      const r = value as Record<string, unknown>;
      const kind = typeof r.kind === 'string' ? r.kind : String(r.mediaType ?? '');
      if (r.type === 'inbound-rtp') {
        result.inbound.push({
          kind,
          framesDecoded: Number(r.framesDecoded ?? 0),
          packetsReceived: Number(r.packetsReceived ?? 0),
          totalSamplesReceived: Number(r.totalSamplesReceived ?? 0),
          totalAudioEnergy: Number(r.totalAudioEnergy ?? 0),
          bytesReceived: Number(r.bytesReceived ?? 0),
          frameWidth: Number(r.frameWidth ?? 0),
          frameHeight: Number(r.frameHeight ?? 0),
          freezeCount: Number(r.freezeCount ?? 0),
          totalFreezesDuration: Number(r.totalFreezesDuration ?? 0),
        });
      } else if (r.type === 'outbound-rtp') {
        result.outbound.push({ kind, packetsSent: Number(r.packetsSent ?? 0), bytesSent: Number(r.bytesSent ?? 0) });
      }
    });
    return result;
  });
}

/** Everything the page's getStats() says of the mix it receives, and its audio element: for a page that heard silence. */
export function pageAudioReport(page: Page): Promise<unknown> {
  return page.evaluate(async () => {
    const pc = (window as unknown as McuWindow).mcu?.pc;
    const report: { type?: string; kind?: string }[] = [];
    if (pc) (await pc.getStats()).forEach((r: { type?: string; kind?: string }) => report.push(r));
    const elements = Array.from(document.querySelectorAll('audio, video')).map((e) => {
      const m = e as HTMLMediaElement;
      return { tag: m.tagName, paused: m.paused, muted: m.muted, volume: m.volume, tracks: m.srcObject instanceof MediaStream ? m.srcObject.getAudioTracks().length : 0 };
    });
    const unmuteShown = document.getElementById('unmute-audio')?.hidden === false;
    return { inbound: report.filter((r) => r.type === 'inbound-rtp' && r.kind === 'audio'), codecs: report.filter((r) => r.type === 'codec'), elements, unmuteShown, status: document.getElementById('status')?.textContent ?? null };
  });
}

type Inbound = PageRtpStats['inbound'][number];

/**
 * The page's inbound composite and mix once both flow (over 30 frames decoded, mix samples
 * received), and the same `ms` later: what a test compares to see them keep coming.
 */
export async function inboundOver(page: Page, ms: number, timeoutMs: number, what: string): Promise<{ first: { video: Inbound; audio: Inbound }; then: { video: Inbound; audio: Inbound } }> {
  const sample = async (): Promise<{ video: Inbound; audio: Inbound } | undefined> => {
    const stats = await pageRtpStats(page);
    const video = stats?.inbound.find((r) => r.kind === 'video');
    const audio = stats?.inbound.find((r) => r.kind === 'audio');
    return video && audio ? { video, audio } : undefined;
  };
  const first = await until(async () => {
    const s = await sample();
    return s && s.video.framesDecoded > 30 && s.audio.totalSamplesReceived > 0 ? s : undefined;
  }, timeoutMs, what, 250);
  await sleep(ms);
  const then = await sample();
  if (!then) throw new Error(`${what}: the inbound streams went away`);
  return { first, then };
}

/** The page's own state (`window.mcu`, see the header of web/app.js). */
export interface PageState {
  state: string;
  id: string | null;
  connectionState: string | null;
  participants: { id: string; name: string }[];
  listed: string[];
  count: string;
  error: { code: string | null; message: string } | null;
}

export function pageState(page: Page): Promise<PageState> {
  return page.evaluate(() => {
    interface McuWindow {
      mcu?: {
        pc: RTCPeerConnection | null;
        state: string;
        id: string | null;
        participants: { id: string; name: string }[];
        error: { code: string | null; message: string } | null;
      };
    }
    const mcu = (window as unknown as McuWindow).mcu;
    const listed = Array.from(document.querySelectorAll('#participants > li .name'), (n) => n.textContent ?? '');
    return {
      state: mcu?.state ?? 'missing',
      id: mcu?.id ?? null,
      connectionState: mcu?.pc ? mcu.pc.connectionState : null,
      participants: mcu?.participants ?? [],
      listed,
      count: document.getElementById('participant-count')?.textContent ?? '',
      error: mcu?.error ?? null,
    };
  });
}

/**
 * The picture the page's composite <video> shows now, scaled to `width`x`height`, as packed RGB
 * (for `colorAt` / `nearestColor` in test/helpers/media.ts); null before the first frame.
 */
export async function compositeFrame(page: Page, width = 320, height = 180): Promise<RgbFrame | null> {
  const rgb = await page.evaluate(
    ([w, h]) => {
      const video = document.getElementById('composite');
      if (!(video instanceof HTMLVideoElement) || video.videoWidth === 0 || video.readyState < 2) return null;
      const canvas = document.createElement('canvas');
      canvas.width = w;
      canvas.height = h;
      const ctx = canvas.getContext('2d');
      if (!ctx) return null;
      ctx.drawImage(video, 0, 0, w, h);
      const rgba = ctx.getImageData(0, 0, w, h).data;
      const out = new Array<number>(w * h * 3);
      for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
        out[j] = rgba[i] ?? 0;
        out[j + 1] = rgba[i + 1] ?? 0;
        out[j + 2] = rgba[i + 2] ?? 0;
      }
      return out;
    },
    [width, height] as const,
  );
  return rgb ? { width, height, data: Buffer.from(rgb) } : null;
}
