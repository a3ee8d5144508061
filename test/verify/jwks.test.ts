import { generateKeyPairSync } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { problem, testClock, type TestClock } from '../helper.js';
import { accessClaims, AUDIENCE, generateKey, ISSUER, orders, resourceServer, sign, startJwksServer, type JwksServer, type TestKey } from './issuer.js';

/**
 * The JWKS cache of versioned-auth/verify: fetched once at start, refetched for an unknown
 * kid (one fetch per cooldown on the injected clock, shared by concurrent misses), refreshed
 * after max-age, and kept when a fetch fails.
 */
interface Setup {
  app: FastifyInstance;
  logs: string[];
  jwks: JwksServer;
  clock: TestClock;
}

const open: Setup[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) {
    await s.app.close();
    await s.jwks.close();
  }
});

async function setup(keys: TestKey[], jwksOptions: { cooldown?: number; maxAge?: number } = {}): Promise<Setup> {
  const clock = testClock();
  const jwks = await startJwksServer(keys.map((key) => key.jwk));
  const { app, logs } = await resourceServer({ jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE, clock, jwks: jwksOptions }, 'debug');
  const s = { app, logs, jwks, clock };
  open.push(s);
  return s;
}

const token = (s: Setup, key: TestKey) => sign(key, accessClaims(s.clock.now()));
const status = async (s: Setup, t: string) => (await orders(s.app, t)).statusCode;
const warnings = (s: Setup, text: string) => s.logs.filter((line) => line.includes('"level":40') && line.includes(text)).length;

/** Waits until `n` fetches have completed, succeeded or failed (each logs one "JWKS fetch…" line once applied). */
const completed = (s: Setup, n: number) =>
  eventually(async () => s.logs.filter((line) => line.includes('"msg":"JWKS fetch')).length >= n, `${n} fetches completed`);

/** Polls until `check` holds; fails after a generous timeout (never a duration assertion). */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + 5000;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`not ${what} after 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('versioned-auth/verify: the JWKS cache', () => {
  it('fetches the JWKS once at start and not again while the keys are fresh', async () => {
    const key = generateKey('EdDSA');
    const s = await setup([key]);
    expect(s.jwks.hits).toBe(1);
    for (let i = 0; i < 5; i++) expect(await status(s, token(s, key))).toBe(200);
    s.clock.advance(299);
    expect(await status(s, token(s, key))).toBe(200);
    expect(s.jwks.hits).toBe(1);
  });

  it('refetches once for an unknown kid, and concurrent misses share that one fetch', async () => {
    const old = generateKey('EdDSA');
    const added = generateKey('ES256');
    const s = await setup([old]);
    s.jwks.keys = [old.jwk, added.jwk];
    s.clock.advance(30);
    s.jwks.hold = true;
    const pending = Array.from({ length: 10 }, () => orders(s.app, token(s, added)));
    await eventually(async () => s.jwks.hits === 2, 'fetched');
    s.jwks.release();
    const answers = await Promise.all(pending);
    expect(answers.map((res) => res.statusCode)).toEqual(Array(10).fill(200));
    expect(s.jwks.hits).toBe(2);
  });

  it('refetches at most once per cooldown (on the injected clock); within it an unknown kid is token_invalid at once', async () => {
    const key = generateKey('EdDSA');
    const s = await setup([key], { cooldown: 60 });
    const strangers = [generateKey('EdDSA'), generateKey('EdDSA'), generateKey('EdDSA')];
    s.clock.advance(59);
    for (const stranger of strangers) {
      const res = await orders(s.app, token(s, stranger));
      expect(res.statusCode).toBe(401);
      expect(problem(res).code).toBe('token_invalid');
    }
    expect(s.jwks.hits).toBe(1);
    s.clock.advance(1);
    expect(await status(s, token(s, strangers[0]!))).toBe(401);
    expect(s.jwks.hits).toBe(2);
    expect(await status(s, token(s, strangers[1]!))).toBe(401);
    expect(s.jwks.hits).toBe(2);
  });

  it('follows a key rotation: new key published, then signing; the old key removed stops verifying after max-age', async () => {
    const first = generateKey('EdDSA');
    const second = generateKey('EdDSA');
    const s = await setup([first]);
    const before = token(s, first);

    // Step 1: the new key is published second; caches pick it up when their max-age runs out.
    s.jwks.keys = [first.jwk, second.jwk];
    s.clock.advance(300);
    expect(await status(s, before)).toBe(200); // served from the cache; a background refresh starts
    await completed(s, 2);
    // Step 2: the new key signs; tokens of both keys verify, with no further fetch.
    const after = token(s, second);
    expect(await status(s, after)).toBe(200);
    expect(await status(s, before)).toBe(200);
    expect(s.jwks.hits).toBe(2);

    // Step 3: the old key is removed; once max-age runs out again, its tokens are refused.
    s.jwks.keys = [second.jwk];
    s.clock.advance(300);
    expect(await status(s, before)).toBe(200); // stale: served, and refreshed in the background
    await completed(s, 3);
    expect(problem(await orders(s.app, before)).code).toBe('token_invalid');
    expect(await status(s, after)).toBe(200);
  });

  it('takes the refresh interval from Cache-Control max-age', async () => {
    const key = generateKey('EdDSA');
    const s = await setup([key]);
    s.jwks.cacheControl = 'public, max-age=60';
    s.clock.advance(300);
    expect(await status(s, token(s, key))).toBe(200); // stale: served, and refreshed in the background
    await completed(s, 2);
    s.clock.advance(59);
    expect(await status(s, token(s, key))).toBe(200);
    s.clock.advance(1);
    expect(await status(s, token(s, key))).toBe(200);
    await completed(s, 3);
    expect(s.jwks.hits).toBe(3);
  });

  it('keeps the last good keys when a fetch fails, logs one warning per outage, and refuses unknown kids', async () => {
    const key = generateKey('EdDSA');
    const stranger = generateKey('EdDSA');
    const s = await setup([key]);
    s.jwks.failWith = 500;
    for (let i = 0; i < 3; i++) {
      s.clock.advance(300);
      expect(await status(s, token(s, key))).toBe(200);
      await completed(s, 2 + i);
      const res = await orders(s.app, token(s, stranger));
      expect(res.statusCode).toBe(401);
      expect(problem(res).code).toBe('token_invalid');
    }
    expect(warnings(s, 'JWKS fetch failed')).toBe(1);
    expect(s.logs.join('')).not.toContain(token(s, key).split('.')[2]);

    s.jwks.failWith = undefined;
    s.jwks.keys = [key.jwk, stranger.jwk];
    s.clock.advance(300);
    expect(await status(s, token(s, stranger))).toBe(200);
    expect(s.logs.some((line) => line.includes('JWKS fetched again'))).toBe(true);
  });

  it('keeps the keys when the answer is not a JWKS', async () => {
    const key = generateKey('ES256');
    const s = await setup([key]);
    s.jwks.keys = undefined as never; // {"keys":undefined} → {}
    s.clock.advance(300);
    await status(s, token(s, key));
    await completed(s, 2);
    expect(await status(s, token(s, key))).toBe(200);
    expect(warnings(s, 'no keys array')).toBe(1);
  });

  it('starts while the JWKS is unreachable: tokens refused until a fetch succeeds', async () => {
    const key = generateKey('EdDSA');
    const jwks = await startJwksServer([key.jwk]);
    jwks.failWith = 503;
    const clock = testClock();
    const { app, logs } = await resourceServer({ jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE, clock });
    const s = { app, logs, jwks, clock };
    open.push(s);
    expect(problem(await orders(app, token(s, key))).code).toBe('token_invalid');
    expect(warnings(s, 'JWKS fetch failed')).toBe(1);
    jwks.failWith = undefined;
    clock.advance(30);
    expect(await status(s, token(s, key))).toBe(200);
  });

  it('skips keys it must not use (RSA, HMAC, Ed448, a mismatched alg) with one warning each, and uses the rest', async () => {
    const good = generateKey('EdDSA');
    const mismatched = generateKey('EdDSA');
    const s = await setup([good]);
    s.jwks.keys = [
      { kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA', kid: 'hmac', alg: 'HS256' },
      { ...mismatched.jwk, alg: 'ES256' },
      { ...generateKeyPairSync('ed448').publicKey.export({ format: 'jwk' }), kid: 'ed448' },
      { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }), kid: 'rsa', alg: 'RS256' },
      good.jwk,
    ];
    s.clock.advance(300);
    await status(s, token(s, good));
    await completed(s, 2);
    s.clock.advance(300);
    await status(s, token(s, good));
    await completed(s, 3);
    expect(await status(s, token(s, good))).toBe(200);
    expect(await status(s, sign(mismatched, accessClaims(s.clock.now())))).toBe(401);
    expect(warnings(s, 'JWKS key skipped')).toBe(4);
  });
});
