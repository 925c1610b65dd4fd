/**
 * Chromium clients for the figures a person feels: each a page of the server's origin into
 * which browserProbe.page.js is injected, speaking the signaling protocol through the standard
 * WebRTC API (not the project's own page), publishing a timecode picture and beeps or only
 * watching, and reading back what it is shown and hears.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from '../../test/helpers/browser.ts';
import type { BotSpec } from '../../test/helpers/bots.ts';
import type { ProbeBox, ProbeSummary } from './browserFigures.ts';
import { ffmpegColor } from './palette.ts';

const PAGE_SCRIPT = readFileSync(fileURLToPath(new URL('./browserProbe.page.js', import.meta.url)), 'utf8');
/** The probe plays the mix into Web Audio without a user gesture. */
const AUDIO_ARGS: string[] = [
  '--autoplay-policy=no-user-gesture-required',
  // Each probe is a page of its own and a person looks at every one of them: none is in the background.
  '--disable-renderer-backgrounding',
  '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
];

/** What each publisher sends, and the composite the probes read its timecodes from. */
export const PROBE_SOURCE = { width: 640, height: 360 };
export const PROBE_CANVAS = { width: 1280, height: 720 };

/** Publishing bot `i` of a probed room: its own colour and tone, and a timecode drawn in its picture. */
export function probeBotSpec(i: number, url: string, room: string, extra: Partial<BotSpec> = {}): BotSpec {
  return {
    url,
    room,
    name: `bot${i}`,
    color: ffmpegColor(i + 1),
    tone: 440 + 220 * i,
    size: `${PROBE_SOURCE.width}x${PROBE_SOURCE.height}`,
    bitrate: 800,
    timecode: true,
    ...extra,
  };
}

export interface ProbeClientOptions {
  /** http(s)://host:port of the server. */
  httpUrl: string;
  room: string;
  name: string;
  publish: boolean;
  /** CSS colour of the published picture. */
  color?: string;
  size?: { width: number; height: number };
  boxes: ProbeBox[];
  token?: string;
  /** False: the mix is received but not played (no lip sync partner for the composite). */
  listen?: boolean;
  /** 'relay': ICE through the TURN servers of `joined` only, as behind a firewall. */
  iceTransportPolicy?: 'all' | 'relay';
}

export interface ProbeClient {
  readonly name: string;
  readonly page: Page;
  summary(): Promise<ProbeSummary>;
  /** Caps the rung it receives (an index into the ladder; null: none). */
  cap(rung: number | null): Promise<void>;
  leave(): Promise<void>;
}

/** `options`: more flags, another executable (a wrapper that starts Chromium in a network namespace). */
export function launchProbeBrowser(httpUrl: string, options: { args?: string[]; executablePath?: string; logPrefix?: string } = {}): Promise<LaunchedChromium> {
  return launchChromium(new URL(httpUrl).origin, options.logPrefix ?? 'probe', {
    args: [...AUDIO_ARGS, ...(options.args ?? [])],
    ...(options.executablePath ? { executablePath: options.executablePath } : {}),
  });
}

/** Opens a page of the server's origin and starts the probe client in it. */
export async function openProbeClient(browser: LaunchedChromium, o: ProbeClientOptions): Promise<ProbeClient> {
  const page = await browser.newPage();
  // Any page of the origin: the camera permission granted to it is what lets Chromium offer a
  // loopback candidate. The API answers fast and runs no script of its own.
  await page.goto(new URL('/api/rooms', o.httpUrl).href, { timeout: 30_000 });
  await page.addScriptTag({ content: PAGE_SCRIPT });
  const socketUrl = new URL('/socket', o.httpUrl);
  socketUrl.protocol = socketUrl.protocol === 'https:' ? 'wss:' : 'ws:';
  await page.evaluate((options) => (window as unknown as { mcuProbe: { start(o: unknown): Promise<void> } }).mcuProbe.start(options), {
    url: socketUrl.href,
    room: o.room,
    name: o.name,
    publish: o.publish,
    color: o.color ?? '#2060c0',
    size: o.size ?? { width: 640, height: 360 },
    boxes: o.boxes,
    listen: o.listen ?? true,
    iceTransportPolicy: o.iceTransportPolicy ?? 'all',
    ...(o.token ? { token: o.token } : {}),
  });
  return {
    name: o.name,
    page,
    summary: () => page.evaluate(() => (window as unknown as { mcuProbe: { summary(): ProbeSummary } }).mcuProbe.summary()),
    cap: (rung) => page.evaluate((r) => (window as unknown as { mcuProbe: { cap(r: number | null): void } }).mcuProbe.cap(r), rung),
    leave: () => page.evaluate(() => (window as unknown as { mcuProbe: { leave(): void } }).mcuProbe.leave()).catch(() => {}),
  };
}
