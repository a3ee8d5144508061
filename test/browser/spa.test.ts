/// <reference lib="dom" />
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, snapshot, uniqueEmail, type TestApp } from '../helper.js';
import { chromiumAvailable, launchChromium, servePage } from './chromium.js';

/**
 * A real browser against the real server: the SPA page is served from an origin listed in
 * CORS_ORIGINS; a foreign page is served from another origin on the same site (localhost),
 * so SameSite does not protect the cookie there and the CSRF defence itself is tested.
 */
describe.skipIf(!chromiumAvailable)('a single-page app in headless Chromium', () => {
  let t: TestApp;
  let api: string;
  let browser: Browser;
  let spa: Page;
  let foreign: Page;
  const pages: Server[] = [];
  const statuses: number[] = [];
  const log = new Writable({
    write(chunk, _encoding, done) {
      const line = JSON.parse(String(chunk)) as { res?: { statusCode: number } };
      if (line.res) statuses.push(line.res.statusCode);
      done();
    },
  });

  beforeAll(async () => {
    const allowed = await servePage();
    const evil = await servePage();
    pages.push(allowed.server, evil.server);
    // COOKIE_SECURE stays on: Chromium treats http://localhost as a secure context.
    t = await buildTestApp({ corsOrigins: [allowed.origin] }, { logger: { level: 'info', stream: log } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    api = `http://localhost:${(t.app.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
    const context = await browser.newContext();
    spa = await context.newPage();
    // Under /auth, so the cookie's Path would match: only HttpOnly keeps it from the script.
    await spa.goto(`${allowed.origin}/auth/app.html`);
    foreign = await context.newPage();
    await foreign.goto(`${evil.origin}/auth/evil.html`);
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    for (const server of pages) server.close();
  });

  /** POST from the SPA with cookie transport; returns status and parsed body. */
  const spaPost = (path: string, accessToken?: string) =>
    spa.evaluate(
      async ({ url, token }) => {
        const headers: Record<string, string> = { 'content-type': 'application/json', 'x-token-transport': 'cookie' };
        if (token) headers.authorization = `Bearer ${token}`;
        const res = await fetch(url, { method: 'POST', credentials: 'include', headers, body: '{}' });
        return { status: res.status, body: res.status === 204 ? null : await res.json() };
      },
      { url: `${api}${path}`, token: accessToken },
    );

  it('signs in, calls /me, refreshes through the cookie it cannot read, and logs out', async () => {
    const email = uniqueEmail('browser');
    const signIn = await spa.evaluate(
      async ({ url, email }) => {
        const res = await fetch(url, {
          method: 'POST',
          credentials: 'include',
          headers: { 'content-type': 'application/json', 'x-token-transport': 'cookie' },
          body: JSON.stringify({ email, password: 'correct horse battery' }),
        });
        return { status: res.status, body: await res.json(), cookie: document.cookie };
      },
      { url: `${api}/auth/register`, email },
    );
    expect(signIn.status).toBe(201);
    expect(signIn.body.refreshToken).toBeUndefined();
    expect(signIn.cookie).not.toContain('refresh_token');

    const me = await spa.evaluate(
      async ({ url, token }) => {
        const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
        return { status: res.status, body: await res.json() };
      },
      { url: `${api}/me`, token: signIn.body.accessToken },
    );
    expect(me).toEqual({ status: 200, body: { id: signIn.body.user.id, email, sessionId: expect.any(String) } });

    const refreshed = await spaPost('/auth/refresh');
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refreshToken).toBeUndefined();
    expect(refreshed.body.accessToken).not.toBe(signIn.body.accessToken);
    expect(await spa.evaluate(() => document.cookie)).not.toContain('refresh_token');
    // The browser holds the cookie; the script never saw it.
    const jar = await spa.context().cookies(`${api}/auth/refresh`);
    expect(jar.map((c) => [c.name, c.httpOnly, c.secure, c.sameSite, c.path])).toEqual([
      ['__Secure-refresh_token', true, true, 'Strict', '/auth'],
    ]);

    // A page from a foreign origin cannot refresh: the preflight for the transport header is refused...
    const blocked = await foreign.evaluate(async (url) => {
      try {
        await fetch(url, { method: 'POST', credentials: 'include', headers: { 'x-token-transport': 'cookie' } });
        return 'reached';
      } catch {
        return 'blocked';
      }
    }, `${api}/auth/refresh`);
    expect(blocked).toBe('blocked');
    // ...and a simple cross-origin POST, which carries the cookie, is refused by the server.
    const before = await snapshot(t.database);
    statuses.length = 0;
    for (const path of ['/auth/refresh', '/auth/logout']) {
      for (const body of [undefined, 'a=b']) {
        await foreign.evaluate(
          ({ url, body }) => fetch(url, { method: 'POST', credentials: 'include', mode: 'no-cors', body }).then(() => 'sent'),
          { url: `${api}${path}`, body },
        );
      }
    }
    // All reached the server with the cookie and were refused there: without the transport
    // header (403 csrf_rejected), and a form-like body before that (415, JSON only).
    expect(statuses).toEqual([403, 415, 403, 415]);
    expect(await snapshot(t.database)).toEqual(before);

    // The SPA's session survived all of that.
    expect((await spaPost('/auth/refresh')).status).toBe(200);
    const logout = await spaPost('/auth/logout');
    expect(logout.status).toBe(204);
    expect(await spa.context().cookies(`${api}/auth/refresh`)).toEqual([]);
    const after = await spaPost('/auth/refresh');
    expect(after).toEqual({ status: 401, body: expect.objectContaining({ code: 'token_missing' }) });
  });
});
