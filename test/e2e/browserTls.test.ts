import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { beforeAllOrFail } from '../helpers/setUpOrFail.ts';
import type { RunningServer } from '../../src/server.ts';
import { BotProcess } from '../helpers/bots.ts';
import { chromiumDescendants, inboundOver, isAlive, launchChromium, pageState, trustCertificateArgs, type LaunchedChromium } from '../helpers/browser.ts';
import { ffmpegChildren } from '../helpers/processes.ts';
import { startTestServer } from '../helpers/testServer.ts';
import { joinToken, TEST_KEYS } from '../helpers/tokens.ts';
import { until } from '../helpers/wait.ts';

// The page as a browser on another machine uses it (README, "Security"): over HTTPS with a
// certificate the user accepted, and a join token in its URL, which also names the room.

const ROOM = 'secure';
/** Every wait; generous: a session starting on a loaded 2-core machine took over 20 s. */
const WAIT_MS = 60_000;

describe('the web page over HTTPS with a join token, on a server with API keys', () => {
  let dir: string;
  let server: RunningServer | undefined;
  let bot: BotProcess | undefined;
  let browser: LaunchedChromium | undefined;

  const throwSetupError = beforeAllOrFail(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcu-browsertls-'));
    server = await startTestServer({ keys: TEST_KEYS, tls: 'self-signed', recordingsDir: join(dir, 'recordings') });
    const certPath = server.tls!.certPath;
    bot = new BotProcess({
      url: server.socketUrl,
      room: ROOM,
      name: 'redbot',
      color: 'red',
      tone: 440,
      token: await joinToken(ROOM, {}, { identity: 'bot' }),
      env: { NODE_EXTRA_CA_CERTS: certPath },
    });
    await bot.waitFor((e) => e.event === 'connected', WAIT_MS, 'the bot to connect over WSS');
    browser = await launchChromium(new URL(server.url).origin, 'chromium-tls', { args: trustCertificateArgs(readFileSync(certPath, 'utf8')) });
  }, 90_000);

  afterAll(async () => {
    const chromiumPids = browser?.pids() ?? [];
    await browser?.close();
    await bot?.stop();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
    await until(() => (ffmpegChildren().length === 0 && !chromiumPids.some(isAlive) ? true : undefined), 10_000, 'FFmpeg and Chromium to exit');
    expect(chromiumDescendants()).toEqual([]);
  }, 60_000);

  function ready(): { server: RunningServer; browser: LaunchedChromium } {
    throwSetupError();
    return { server: server!, browser: browser! };
  }

  async function waitForState(page: Page, wanted: (s: Awaited<ReturnType<typeof pageState>>) => boolean, what: string) {
    return until(async () => {
      const s = await pageState(page);
      return wanted(s) ? s : undefined;
    }, WAIT_MS, what, 250);
  }

  it('joins the room its token names, and receives the composite and the mix', async () => {
    const { server, browser } = ready();
    const page = await browser.newPage();
    const token = await joinToken(ROOM, {}, { identity: 'chrome', name: 'Chrömé' });
    // No ?room=: the page takes the room from the token.
    await page.goto(`${server.url}?token=${token}&mode=camera&autojoin=1`, { timeout: WAIT_MS });
    const form = await page.evaluate(() => ({
      secure: window.isSecureContext,
      room: (document.getElementById('room') as HTMLInputElement).value,
      name: (document.getElementById('name') as HTMLInputElement).value,
    }));
    expect(form).toEqual({ secure: true, room: ROOM, name: 'Chrömé' });
    const joined = await waitForState(page, (s) => {
      if (s.state === 'error') throw new Error(`the page failed to join: ${JSON.stringify(s.error)}`);
      return s.state === 'joined' && s.connectionState === 'connected';
    }, 'the page to join and connect');
    expect(joined.participants.map((p) => p.name).sort()).toEqual(['Chrömé', 'redbot']);

    const { first, then: { video, audio } } = await inboundOver(page, 5000, WAIT_MS, 'composite frames and mix samples');
    console.log(`over HTTPS: +${video.framesDecoded - first.video.framesDecoded} composite frames in 5 s, mix energy +${(audio.totalAudioEnergy - first.audio.totalAudioEnergy).toExponential(2)}`);
    expect(video.framesDecoded - first.video.framesDecoded).toBeGreaterThan(30);
    // The bot's tone is in the mix.
    expect(audio.totalAudioEnergy).toBeGreaterThan(first.audio.totalAudioEnergy);
    await page.close();
  }, 240_000);

  it.each([
    ['an expired token', () => joinToken(ROOM, {}, { now: new Date(Date.now() - 3_600_000) }), /expired/],
    ['a token for another room', () => joinToken('elsewhere'), /for room elsewhere/],
    ['no token', async () => undefined, /needs a join token/],
  ])('shows the refusal of %s and adds nobody', async (_what, make, message) => {
    const { server, browser } = ready();
    const page = await browser.newPage();
    const token = await make();
    await page.goto(`${server.url}?room=${ROOM}&name=intruder&mode=viewer&autojoin=1${token ? `&token=${token}` : ''}`, { timeout: WAIT_MS });
    const failed = await waitForState(page, (s) => s.state === 'error', 'the page to show the refusal');
    expect(failed.error?.code).toBe('unauthorized');
    expect(failed.error?.message).toMatch(message);
    expect(await page.locator('#error-banner').getAttribute('data-code')).toBe('unauthorized');
    const room = await server.rooms.get(ROOM);
    expect(room?.participants().map((p) => p.name)).toEqual(['redbot']);
    await page.close();
  }, 120_000);
});
