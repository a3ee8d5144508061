import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDRESS_LIMIT } from '../../src/plugins/rate-limit.js';
import { bearer, buildApp, buildTestApp, PASSWORD, problem, uniqueEmail, logCapture, type TestApp } from '../helper.js';

const { lines, stream: sink } = logCapture();

let t: TestApp;
/** The same service behind a proxy: TRUST_PROXY=10.0.0.0/8. */
let proxied: FastifyInstance;
/** Behind one proxy, counted: TRUST_PROXY=1. */
let oneHop: FastifyInstance;
beforeAll(async () => {
  t = await buildTestApp({ rateLimit: true });
  proxied = await buildApp({ ...t.config, trustProxy: ['10.0.0.0/8'] }, { database: t.database, logger: { level: 'info', stream: sink } });
  oneHop = await buildApp({ ...t.config, trustProxy: 1 }, { database: t.database });
});
afterAll(async () => {
  await oneHop.close();
  await proxied.close();
  await t.close();
});

/** A fresh documentation-range address, so each test has counters of its own. */
const client = () => `198.51.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;
const PROXY = '10.1.2.3';

/** Registers through `app` from `remoteAddress` with `forwarded`; returns the ip the session recorded. */
async function sessionIp(app: FastifyInstance, remoteAddress: string, forwarded?: string): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: '/auth/register',
    payload: { email: uniqueEmail('proxy'), password: PASSWORD },
    headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded },
    remoteAddress,
  });
  expect(res.statusCode).toBe(201);
  const listed = await app.inject({ method: 'GET', url: '/auth/sessions', headers: bearer(res.json().accessToken) });
  return listed.json().sessions[0].ip;
}

const refresh = (app: FastifyInstance, remoteAddress: string, forwarded?: string) =>
  app.inject({
    method: 'POST',
    url: '/auth/refresh',
    payload: { refreshToken: 'x' },
    headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded },
    remoteAddress,
  });

/** Spends the per-address limit of whoever `send` comes from. */
async function exhaust(send: (i: number) => ReturnType<typeof refresh>) {
  for (let i = 0; i < ADDRESS_LIMIT.max; i++) expect((await send(i)).statusCode, `request ${i + 1}`).toBe(401);
}

function expectLimited(res: Awaited<ReturnType<typeof refresh>>) {
  expect(res.statusCode).toBe(429);
  expect(problem(res).code).toBe('rate_limited');
}

describe('TRUST_PROXY: the client address', () => {
  const forged = '192.0.2.66';
  it.each([
    ['no proxy trusted: a peer forging X-Forwarded-For', 'default', PROXY, forged, PROXY],
    ['an untrusted peer forging X-Forwarded-For', 'proxied', '203.0.113.9', forged, '203.0.113.9'],
    ['a trusted proxy, one client', 'proxied', PROXY, '198.51.100.7', '198.51.100.7'],
    ['a trusted proxy after a client that forged a hop', 'proxied', PROXY, `${forged}, 198.51.100.7`, '198.51.100.7'],
    ['two trusted proxies', 'proxied', PROXY, '198.51.100.7, 10.9.9.9', '198.51.100.7'],
    ['a trusted proxy over IPv4-mapped IPv6', 'proxied', `::ffff:${PROXY}`, '198.51.100.7', '198.51.100.7'],
    ['a trusted proxy without the header', 'proxied', PROXY, undefined, PROXY],
    ['TRUST_PROXY=1: the last hop the proxy added', 'one hop', PROXY, '198.51.100.7', '198.51.100.7'],
    ['TRUST_PROXY=1: a client that forged a hop before the proxy', 'one hop', PROXY, `${forged}, 198.51.100.7`, '198.51.100.7'],
    ['TRUST_PROXY=1: no header', 'one hop', PROXY, undefined, PROXY],
  ])('%s: the session records the right address', async (_name, which, peer, forwarded, expected) => {
    const app = { default: t.app, proxied, 'one hop': oneHop }[which]!;
    expect(await sessionIp(app, peer, forwarded)).toBe(expected);
  });

  it('logs the address it yields', async () => {
    lines.length = 0;
    await refresh(proxied, PROXY, '198.51.100.77');
    const incoming = lines.map((line) => JSON.parse(line)).find((entry) => entry.msg === 'incoming request');
    expect(incoming.req.remoteAddress).toBe('198.51.100.77');
  });

  it('limits each client behind a trusted proxy on its own', async () => {
    const [a, b] = [client(), client()];
    await exhaust(() => refresh(proxied, PROXY, a));
    expectLimited(await refresh(proxied, PROXY, a));
    expect((await refresh(proxied, PROXY, b)).statusCode).toBe(401);
  });

  it('does not let an untrusted peer dodge its limit by forging X-Forwarded-For', async () => {
    const peer = client();
    await exhaust((i) => refresh(proxied, peer, `192.0.2.${i}`));
    expectLimited(await refresh(proxied, peer, '192.0.2.250'));
  });
});

describe('IPv6 clients on the per-address limit', () => {
  it('are limited per /64: another address of the same /64 is refused, the next /64 is not', async () => {
    const prefix = `2001:db8:${randomBytes(2).toString('hex')}:1`;
    await exhaust((i) => refresh(t.app, `${prefix}::${(i + 1).toString(16)}`));
    expectLimited(await refresh(t.app, `${prefix}:ffff:ffff:ffff:fffe`));
    expect((await refresh(t.app, `${prefix.slice(0, -1)}2::1`)).statusCode).toBe(401);
  });

  it('IPv4 through IPv4-mapped IPv6 shares the IPv4 address\'s limit', async () => {
    const v4 = client();
    await exhaust((i) => refresh(t.app, i % 2 === 0 ? v4 : `::ffff:${v4}`));
    expectLimited(await refresh(t.app, v4));
  });
});
