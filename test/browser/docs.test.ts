/// <reference lib="dom" />
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helper.js';
import { chromiumAvailable, launchChromium } from './chromium.js';

/** Swagger UI as a browser runs it: under our CSP, every script and style loads and the document renders. */
describe.skipIf(!chromiumAvailable)('GET /docs in headless Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let api: string;

  beforeAll(async () => {
    t = await buildTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    api = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('renders every operation of the document, with no CSP violation or failed request', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page: ${error.message}`));
    page.on('requestfailed', (request) => problems.push(`failed: ${request.url()}`));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`${response.status()}: ${response.url()}`);
    });
    await page.goto(`${api}/docs`);
    await page.waitForSelector('.swagger-ui .info .title', { timeout: 15_000 });
    expect(await page.textContent('.swagger-ui .info .title')).toContain('versioned-auth');
    const operations = await page.locator('.opblock').count();
    const document = (await t.app.inject('/openapi.json')).json() as { paths: Record<string, object> };
    expect(operations).toBe(Object.values(document.paths).reduce((n, item) => n + Object.keys(item).length, 0));
    expect(problems).toEqual([]);
  });
});
