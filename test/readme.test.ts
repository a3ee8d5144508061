/// <reference lib="dom" />
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as clientModule from 'versioned-auth/client';
import { chromiumAvailable, launchChromium, servePage } from './browser/chromium.js';
import { ACCESS_SECRET, buildTestApp, createTestDatabase, PASSWORD, REFRESH_SECRET, register, uniqueEmail, type TestApp } from './helper.js';

/** The README's client snippets, run as written; only the API address is swapped for the test server's. */
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
function snippet(firstLine: string): string {
  const block = readme.split('```js\n').find((part) => part.startsWith(firstLine));
  if (!block) throw new Error(`README has no js block starting with "${firstLine}"`);
  return block.slice(0, block.indexOf('```'));
}
const withApi = (code: string, api: string) => {
  const swapped = code.replace("const api = 'http://localhost:3000';", `const api = '${api}';`);
  if (swapped === code) throw new Error('snippet does not declare the api address as expected');
  return swapped;
};

/** A README client snippet, with its import of the client swapped for the module given as `client`. */
const IMPORT = "import { createClient } from 'versioned-auth/client';";
function clientSnippet(firstLine: string, api: string): string {
  const code = withApi(snippet(firstLine), api);
  if (!code.includes(IMPORT)) throw new Error(`snippet "${firstLine}" does not import the client as expected`);
  return code;
}
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...values: unknown[]) => Promise<unknown>;

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

async function listen(app: TestApp) {
  await app.app.listen({ port: 0, host: '127.0.0.1' });
  return `http://localhost:${(app.app.server.address() as AddressInfo).port}`;
}

describe('README mobile snippet', () => {
  it('signs in, calls /me, refreshes on a 401 after the access token expires, and signs out', async () => {
    const api = await listen(t);
    const code = clientSnippet('// Mobile client', api).replace(IMPORT, 'const { createClient } = client;');
    const { email } = await register(t.app);
    const reasons: string[] = [];
    const run = new AsyncFunction('client', 'email', 'password', 'showSignIn', `${code}\nreturn { auth, secureStore, me };`);
    const { auth, secureStore, me } = (await run(clientModule, email, PASSWORD, (reason: string) => reasons.push(reason))) as {
      auth: clientModule.Client;
      secureStore: Map<string, string>;
      me: Response;
    };
    try {
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({ email });
      const firstRefresh = secureStore.get('refreshToken');
      expect(firstRefresh).toBeTruthy();

      t.clock.advance(t.config.jwt.accessTtl + 31);
      const again = await auth.fetch('/me');
      expect(again.status).toBe(200);
      expect(secureStore.get('refreshToken')).not.toBe(firstRefresh);

      await auth.signOut();
      expect(secureStore.has('refreshToken')).toBe(false);
      await Promise.resolve();
      expect(reasons).toEqual(['signed_out']);
      await expect(auth.signIn({ email, password: 'wrong password!' })).rejects.toMatchObject({ code: 'invalid_credentials', status: 401 });
    } finally {
      auth.close();
    }
  });
});

describe.skipIf(!chromiumAvailable)('README SPA snippet in headless Chromium', () => {
  let spaApp: TestApp;
  let page: Server;
  let browser: Browser;
  let tab: Page;
  let api: string;
  let origin: string;
  const errors: Error[] = [];
  beforeAll(async () => {
    const served = await servePage({ client: true });
    page = served.server;
    origin = served.origin;
    spaApp = await buildTestApp({ corsOrigins: [origin] });
    api = await listen(spaApp);
    browser = await launchChromium();
    tab = await browser.newPage();
    tab.on('pageerror', (error) => errors.push(error));
  });
  afterAll(async () => {
    await browser?.close();
    await spaApp?.close();
    page?.close();
  });

  /** Runs `code` as a module of the page and waits until it has finished (or thrown). */
  async function runModule(code: string) {
    await tab.addScriptTag({ type: 'module', content: `${code}\nwindow.moduleDone = true;` });
    await tab.waitForFunction(() => window.moduleDone === true || window.moduleFailed !== undefined);
    expect(errors).toEqual([]);
  }

  it('signs in and calls /me as written; refreshes through the cookie after expiry and after a reload; signs out', async () => {
    const email = uniqueEmail('readme-spa');
    await register(spaApp.app, email);
    await tab.goto(`${origin}/`);
    await tab.evaluate(
      ([e, p]) => {
        Object.assign(window, { email: e, password: p, reasons: [], showSignIn: (reason: string) => window.reasons.push(reason) });
        window.addEventListener('error', (event) => (window.moduleFailed = String(event.message)));
      },
      [email, PASSWORD],
    );
    await runModule(`${clientSnippet('// Single-page app', api)}\nwindow.auth = auth; window.meStatus = me.status;`);
    expect(await tab.evaluate(() => window.meStatus)).toBe(200);
    expect(await tab.evaluate(() => document.cookie)).toBe('');

    spaApp.clock.advance(spaApp.config.jwt.accessTtl + 31);
    expect(await tab.evaluate(() => window.auth.fetch('/me').then((r) => r.json()))).toMatchObject({ email });

    // A reload loses the access token; the cookie brings the session back at the first call.
    await tab.reload();
    await runModule(`${IMPORT}\nwindow.auth = createClient({ baseUrl: '${api}', transport: 'cookie' });`);
    expect(await tab.evaluate(() => window.auth.fetch('/me').then((r) => r.status))).toBe(200);

    await tab.evaluate(() => window.auth.signOut());
    expect(await tab.evaluate(() => window.auth.fetch('/me').then((r) => r.status))).toBe(401);
  });
});

describe('README "Build your API on it"', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const project = mkdtempSync(join(tmpdir(), 'versioned-auth-host-'));
  let drop = async () => {};
  afterAll(async () => {
    await drop();
    rmSync(project, { recursive: true, force: true });
  });

  it('runs as written in a project that installed versioned-auth: its own route, 200, 401 and token_revoked after logout-all', async () => {
    // A team's project: versioned-auth installed (a link to this package, as `npm install <path>` makes), fastify beside it.
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(root, join(project, 'node_modules', 'versioned-auth'), 'dir');
    symlinkSync(join(root, 'node_modules', 'fastify'), join(project, 'node_modules', 'fastify'), 'dir');
    const code = snippet("import Fastify from 'fastify';");
    const runnable = code.replace('await app.listen({ port: 3000 });', "await app.listen({ port: 0, host: '127.0.0.1' });");
    expect(runnable).not.toBe(code);
    writeFileSync(join(project, 'server.mjs'), runnable);

    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      DATA_DIR: join(project, 'data'),
      JWT_ACCESS_SECRET: ACCESS_SECRET,
      JWT_REFRESH_SECRET: REFRESH_SECRET,
    };
    const testDb = await createTestDatabase();
    drop = testDb.drop;
    if (testDb.config.kind === 'postgres') env.DATABASE_URL = testDb.config.url;
    const proc = spawn(process.execPath, ['server.mjs'], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout!.on('data', (chunk) => (output += chunk));
    proc.stderr!.on('data', (chunk) => (output += chunk));
    try {
      const api = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the example did not listen: ${output}`)), 30_000);
        proc.stdout!.on('data', () => {
          const listening = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
          if (listening) resolve((clearTimeout(timer), listening[1]!));
        });
        proc.on('exit', (exitCode) => reject(new Error(`the example exited with ${exitCode}: ${output}`)));
      });
      const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
        fetch(`${api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

      const registered = await post('/auth/register', { email: uniqueEmail('host-example'), password: PASSWORD });
      expect(registered.status).toBe(201);
      const { accessToken, refreshToken, user } = await registered.json();
      const auth = { authorization: `Bearer ${accessToken}` };

      const orders = await fetch(`${api}/orders`, { headers: auth });
      expect(orders.status).toBe(200);
      expect(await orders.json()).toEqual({ owner: user.id });

      const anonymous = await fetch(`${api}/orders`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('content-type')).toContain('application/problem+json');
      expect((await anonymous.json()).code).toBe('token_missing');

      expect((await fetch(`${api}/auth/logout-all`, { method: 'POST', headers: auth })).status).toBe(200);
      const refreshed = await post('/auth/refresh', { refreshToken });
      expect(refreshed.status).toBe(401);
      expect((await refreshed.json()).code).toBe('token_revoked');
      // Whatever the host's logger prints, the credentials are not in it.
      expect(output).not.toContain(accessToken);
      expect(output).not.toContain(refreshToken);
    } finally {
      proc.kill('SIGKILL');
    }
  }, 90_000);
});

declare global {
  interface Window {
    auth: clientModule.Client;
    email: string;
    password: string;
    reasons: string[];
    showSignIn(reason: string): void;
    meStatus: number;
    moduleDone?: boolean;
    moduleFailed?: string;
  }
}
