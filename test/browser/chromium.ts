import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium; never a downloaded browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** The built versioned-auth/client (npm test builds first). */
const CLIENT_BUILD = new URL('../../dist/client/', import.meta.url);

export const chromiumAvailable = existsSync(CHROMIUM);
if (!chromiumAvailable) {
  console.warn(`\n!!! SKIPPING browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium) !!!\n`);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Serves one HTML page on every path, from an origin of its own on localhost. With `client`,
 * the page maps `versioned-auth/client` to the built client (dist/client), served at /client/.
 */
export function servePage(options: { client?: boolean } = {}): Promise<{ server: Server; origin: string }> {
  const head = options.client ? '<script type="importmap">{"imports":{"versioned-auth/client":"/client/index.js"}}</script>' : '';
  const page = `<!doctype html><title>page</title>${head}`;
  const server = createServer((req, res) => {
    const file = options.client ? /^\/client\/([\w-]+\.js)$/.exec(req.url ?? '')?.[1] : undefined;
    if (file) res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(new URL(file, CLIENT_BUILD)));
    else res.writeHead(200, { 'content-type': 'text/html' }).end(page);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, origin: `http://localhost:${(server.address() as AddressInfo).port}` })),
  );
}
