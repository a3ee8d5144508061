/// <reference lib="dom" />
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, PASSWORD, testClock, uniqueEmail, type TestApp } from '../helper.js';
import { CLOCK_SKEW_SECONDS } from '../../src/tokens/index.js';
import { chromiumAvailable, launchChromium } from './chromium.js';

/**
 * The demo SPA (examples/spa) on the API's own origin, driving the real client
 * (versioned-auth/client, cookie transport) in Chromium: two tabs of one browser share a
 * session, a third page in another browser context is another device. Time moves only on the
 * server's clock: "expired" means the server says so, whatever the page's clock believes.
 */
describe.skipIf(!chromiumAvailable)('the demo SPA in headless Chromium', () => {
  // The page's clock is the real one: start the server's there, so fresh tokens look fresh to it.
  const clock = testClock(Math.floor(Date.now() / 1000) * 1000);
  let t: TestApp;
  let origin: string;
  let browser: Browser;
  let tabA: Page;
  let tabB: Page;
  let device: Page;
  const email = uniqueEmail('demo');
  /** Every answer the server sent, in order: method, url and status. */
  const answers: { method: string; url: string; status: number }[] = [];
  const pageErrors: string[] = [];
  /** Answers of 401 to GET /me each page got: a call made with the expired token. */
  const expiredCalls = new Map<Page, number>();
  /**
   * While set, a refresh request waits at the browser until every tab has had a call refused:
   * then each tab needs the refresh at the same time, and one of them must wait for the other's.
   */
  let refreshGate: { open(): boolean; release(): void; released: Promise<void> } | undefined;
  const requests = new Map<string, { method: string; url: string }>();
  const log = new Writable({
    write(chunk, _encoding, done) {
      const line = JSON.parse(String(chunk)) as { reqId?: string; req?: { method: string; url: string }; res?: { statusCode: number } };
      if (line.reqId && line.req) requests.set(line.reqId, line.req);
      const request = line.reqId ? requests.get(line.reqId) : undefined;
      if (line.res && request) answers.push({ ...request, status: line.res.statusCode });
      done();
    },
  });

  beforeAll(async () => {
    t = await buildTestApp({ clock }, { logger: { level: 'info', stream: log }, demo: true });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    // localhost: a secure context for Chromium, so the __Secure- cookie is kept over http.
    origin = `http://localhost:${(t.app.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
    const browserContext = await browser.newContext();
    await browserContext.route(`${origin}/auth/refresh`, async (route) => {
      await refreshGate?.released;
      await route.continue();
    });
    tabA = await openDemo(browserContext);
    tabB = await openDemo(browserContext);
    device = await openDemo(await browser.newContext());
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function openDemo(context: BrowserContext): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('response', (response) => {
      if (new URL(response.url()).pathname !== '/me' || response.status() !== 401) return;
      expiredCalls.set(page, (expiredCalls.get(page) ?? 0) + 1);
      if (refreshGate?.open()) refreshGate.release();
    });
    // A CSP violation is a console error; an answer of 401 is one too, and expected.
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(message.text());
    });
    return page;
  }

  const state = (page: Page) => page.evaluate(() => document.body.dataset.state);
  const events = (page: Page) => page.evaluate(() => Array.from(document.querySelectorAll('#events li'), (li) => li.textContent ?? ''));
  const waitForState = (page: Page, expected: string) =>
    page.waitForFunction((expected) => document.body.dataset.state === expected, expected, { timeout: 5000 });

  async function submit(page: Page, action: 'register' | 'signIn') {
    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', PASSWORD);
    await page.click(`button[value=${action}]`);
    await waitForState(page, 'signed-in');
  }

  /** Clicks "Call /me ×20" on every page at once; the 20 outcomes each page got (a status, or the refusal's code). */
  async function twentyCalls(...pages: Page[]): Promise<unknown[][]> {
    await Promise.all(pages.map((page) => page.evaluate(() => document.getElementById('me-20')!.click())));
    return Promise.all(
      pages.map(async (page) => {
        const handle = await page.waitForFunction(() => document.getElementById('result')!.dataset.statuses, undefined, { timeout: 10_000 });
        return JSON.parse((await handle.jsonValue())!) as unknown[];
      }),
    );
  }

  it('loads under its own strict CSP, signs in, and a second tab shares the session', async () => {
    await tabA.goto(`${origin}/demo`);
    await waitForState(tabA, 'signed-out');
    await submit(tabA, 'register');
    // A fresh page holds no access token: its first call refreshes from the cookie.
    await tabB.goto(`${origin}/demo/`);
    await waitForState(tabB, 'signed-in');
    expect(await tabB.textContent('#status')).toContain(email);
    await device.goto(`${origin}/demo/`);
    await submit(device, 'signIn');
    // Two sessions: this browser (both tabs) and the other device.
    await tabA.click('#list-sessions');
    await tabA.waitForFunction(() => document.querySelectorAll('#sessions li').length === 2);
    const sessions = await tabA.evaluate(() => Array.from(document.querySelectorAll('#sessions li'), (li) => li.textContent ?? ''));
    expect(sessions.filter((text) => text.startsWith('(this browser)'))).toHaveLength(1);
    expect(pageErrors).toEqual([]);
  });

  it.each([1, 2])('expiry %i: 2 tabs × 20 parallel calls all succeed on one refresh, nobody signed out', async () => {
    const before = answers.length;
    const eventsBefore = [await events(tabA), await events(tabB)];
    clock.advance(t.config.jwt.accessTtl + CLOCK_SKEW_SECONDS);
    expiredCalls.clear();
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    // Bounded, should a client never send the expired token from one of the tabs: the test then
    // only loses its guarantee of overlapping refreshes, not its assertions.
    const fallback = setTimeout(release, 5000);
    refreshGate = { open: () => expiredCalls.has(tabA) && expiredCalls.has(tabB), release, released };

    const [a, b] = await twentyCalls(tabA, tabB).finally(() => {
      clearTimeout(fallback);
      refreshGate = undefined;
    });
    expect(a).toEqual(Array(20).fill(200));
    expect(b).toEqual(Array(20).fill(200));
    // The server refused the expired token (a refresh was needed), and one refresh served both tabs.
    const since = answers.slice(before);
    expect(since.filter((a) => a.url === '/me' && a.status === 401).length).toBeGreaterThan(0);
    expect(since.filter((a) => a.url === '/auth/refresh').map((a) => `${a.method} ${a.status}`)).toEqual(['POST 200']);
    expect([await events(tabA), await events(tabB)]).toEqual(eventsBefore);
    expect([await state(tabA), await state(tabB)]).toEqual(['signed-in', 'signed-in']);
  });

  it('never shows the refresh token to script: not in document.cookie nor any storage', async () => {
    const [cookie] = await tabA.context().cookies(`${origin}/auth/refresh`);
    expect(cookie).toMatchObject({ name: '__Secure-refresh_token', httpOnly: true, sameSite: 'Strict', path: '/auth' });
    const token = cookie!.value;
    // A JWS: its signature alone would be enough to recognise it.
    const signature = token.split('.')[2]!;
    expect(signature.length).toBeGreaterThan(20);
    for (const page of [tabA, tabB]) {
      const visible = await page.evaluate(async () => {
        const entries = (storage: Storage) => Object.keys(storage).map((key) => `${key}=${storage.getItem(key)}`);
        return {
          cookie: document.cookie,
          local: entries(localStorage),
          session: entries(sessionStorage),
          indexedDB: (await indexedDB.databases()).map((db) => db.name ?? ''),
        };
      });
      expect(JSON.stringify(visible)).not.toContain(signature);
      expect(visible.cookie).not.toContain('refresh_token');
    }
  });

  it('sign out everywhere in tab A: tab B signs out at once; a tab without the channel and another device on their next call (token_revoked)', async () => {
    // A third tab of this browser where the client has no BroadcastChannel: it never hears of the sign-out.
    const tabC = await openDemo(tabA.context());
    await tabC.addInitScript(() => Reflect.deleteProperty(window, 'BroadcastChannel'));
    await tabC.goto(`${origin}/demo/`);
    await waitForState(tabC, 'signed-in');
    // The other device's token expired with the clock: one call gives it a live one.
    await device.click('#me');
    await device.waitForFunction((email) => document.getElementById('result')!.textContent!.includes(email), email);
    // Sign-out strictly after every token was issued.
    clock.advance(1);

    const quietB: string[] = [];
    tabB.on('request', (request) => quietB.push(request.url()));
    await tabA.click('#sign-out-everywhere');
    await waitForState(tabA, 'signed-out');
    // Through the channel: tab B made no request to learn it.
    await waitForState(tabB, 'signed-out');
    expect(quietB).toEqual([]);
    expect(await tabB.textContent('#status')).toContain('signed_out_everywhere');

    // Tab B's next calls are refused and it stays signed out.
    const [b] = await twentyCalls(tabB);
    expect(b!.filter((outcome) => outcome === 200)).toEqual([]);
    expect(await state(tabB)).toBe('signed-out');

    // No broadcast reached tab C nor the other device: both still think they are signed in,
    // until their next call, which the server refuses as revoked.
    for (const page of [tabC, device]) {
      expect(await state(page)).toBe('signed-in');
      const before = answers.length;
      await page.click('#me');
      await waitForState(page, 'signed-out');
      expect(await page.textContent('#status')).toContain('token_revoked');
      expect((await events(page)).at(-1)).toContain('signed out: token_revoked');
      // The access token itself was refused at once (instant revocation), then the refresh.
      expect(answers.slice(before).map((a) => `${a.method} ${a.url} ${a.status}`)).toEqual(
        expect.arrayContaining(['GET /me 401', 'POST /auth/refresh 401']),
      );
    }
    expect(pageErrors).toEqual([]);
  });
});
