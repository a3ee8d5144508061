import Fastify, { type FastifyInstance } from 'fastify';
import versionedAuth from '../../src/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  buildTestApp,
  decodeJwt,
  loginWith,
  me,
  PASSWORD,
  problem,
  refreshWith,
  register,
  revokedEventually,
  type TestApp,
  type TokenBody,
} from '../helper.js';

/** Polls until `app` refuses `token` as revoked (see revokedEventually), with the header a Bearer 401 carries. */
async function refusedEventually(app: FastifyInstance, token: string): Promise<void> {
  const res = await revokedEventually(app, token);
  expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
}

const accepted = async (app: FastifyInstance, token: string) => expect((await me(app, token)).statusCode).toBe(200);
const login = async (app: FastifyInstance, email: string) => (await loginWith(app, email)).json() as TokenBody;
const sidOf = (token: string) => decodeJwt(token).payload.sid as string;

let t: TestApp;
/** A second instance on the same database: another server behind the load balancer. */
let other: FastifyInstance;
beforeAll(async () => {
  t = await buildTestApp();
  other = await t.another();
});
afterAll(() => t.close());

interface Scenario {
  /** Tokens that must die. */
  dead: string[];
  /** Tokens of the same user that must live on. */
  alive: string[];
}

// Each row: a revocation, done on the first instance; the tokens it kills and those it spares.
const causes: [string, () => Promise<Scenario>][] = [
  [
    'logout-all',
    async () => {
      const user = await register(t.app);
      const phone = await login(t.app, user.email);
      const res = await t.app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(user.accessToken) });
      expect(res.statusCode).toBe(200);
      const after = await login(t.app, user.email); // signed in after: passes
      return { dead: [user.accessToken, phone.accessToken], alive: [after.accessToken] };
    },
  ],
  [
    'password change',
    async () => {
      const user = await register(t.app);
      const phone = await login(t.app, user.email);
      const res = await t.app.inject({
        method: 'POST',
        url: '/auth/password',
        headers: bearer(user.accessToken),
        payload: { currentPassword: PASSWORD, newPassword: 'another correct horse' },
      });
      expect(res.statusCode).toBe(200);
      return { dead: [user.accessToken, phone.accessToken], alive: [(res.json() as TokenBody).accessToken] };
    },
  ],
  [
    'DELETE /me',
    async () => {
      const user = await register(t.app);
      const phone = await login(t.app, user.email);
      const res = await t.app.inject({ method: 'DELETE', url: '/me', headers: bearer(user.accessToken), payload: { password: PASSWORD } });
      expect(res.statusCode).toBe(204);
      return { dead: [user.accessToken, phone.accessToken], alive: [] };
    },
  ],
  [
    'logout (refresh token)',
    async () => {
      const user = await register(t.app);
      const phone = await login(t.app, user.email);
      const res = await t.app.inject({ method: 'POST', url: '/auth/logout', payload: { refreshToken: phone.refreshToken } });
      expect(res.statusCode).toBe(204);
      return { dead: [phone.accessToken], alive: [user.accessToken] };
    },
  ],
  [
    'logout (access token)',
    async () => {
      const user = await register(t.app);
      const phone = await login(t.app, user.email);
      const res = await t.app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(phone.accessToken) });
      expect(res.statusCode).toBe(204);
      return { dead: [phone.accessToken], alive: [user.accessToken] };
    },
  ],
  [
    'DELETE /auth/sessions/:id',
    async () => {
      const user = await register(t.app);
      const phone = await login(t.app, user.email);
      const url = `/auth/sessions/${sidOf(phone.accessToken)}`;
      const res = await t.app.inject({ method: 'DELETE', url, headers: bearer(user.accessToken) });
      expect(res.statusCode).toBe(204);
      return { dead: [phone.accessToken], alive: [user.accessToken] };
    },
  ],
  [
    'logout-others',
    async () => {
      const user = await register(t.app);
      const phone = await login(t.app, user.email);
      const tablet = await login(t.app, user.email);
      const res = await t.app.inject({ method: 'POST', url: '/auth/logout-others', headers: bearer(user.accessToken) });
      expect(res.json()).toEqual({ revokedSessions: 2 });
      return { dead: [phone.accessToken, tablet.accessToken], alive: [user.accessToken] };
    },
  ],
  [
    'refresh token reuse',
    async () => {
      const user = await register(t.app);
      const phone = await login(t.app, user.email);
      const rotated = (await refreshWith(t.app, phone.refreshToken)).json() as TokenBody;
      t.clock.advance(60); // past the reuse grace
      expect((await refreshWith(t.app, phone.refreshToken)).statusCode).toBe(401);
      // Both the thief's and the rightful holder's access tokens of that session die.
      return { dead: [phone.accessToken, rotated.accessToken], alive: [user.accessToken] };
    },
  ],
];

describe('a revoked access token is refused with 401 token_revoked, on every instance, with no database read', () => {
  it.each(causes)('%s', async (_name, cause) => {
    const bystander = await register(t.app);
    const { dead, alive } = await cause();
    for (const token of dead) {
      await refusedEventually(t.app, token);
      await refusedEventually(other, token);
    }
    for (const token of [...alive, bystander.accessToken]) {
      await accepted(t.app, token);
      await accepted(other, token);
    }
  });

  it('is refused by an instance started after the revocation (it reloads the window at start)', async () => {
    const user = await register(t.app);
    const phone = await login(t.app, user.email);
    await t.app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(user.accessToken) });
    await t.app.inject({ method: 'POST', url: '/auth/logout', payload: { refreshToken: phone.refreshToken } });
    const late = await t.another();
    for (const token of [user.accessToken, phone.accessToken]) {
      const res = await me(late, token);
      expect(res.statusCode).toBe(401);
      expect(problem(res).code).toBe('token_revoked');
    }
  });

  it('protects a host route guarded by app.authenticate the same way', async () => {
    const host = Fastify();
    await host.register(versionedAuth, { config: t.config, database: t.database });
    host.get('/host', { onRequest: host.authenticate }, () => ({ ok: true }));
    await host.ready();
    try {
      const user = await register(t.app);
      const ask = () => host.inject({ method: 'GET', url: '/host', headers: bearer(user.accessToken) });
      expect((await ask()).statusCode).toBe(200);
      await t.app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(user.accessToken) });
      const deadline = performance.now() + 5000;
      let res = await ask();
      while (res.statusCode === 200 && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        res = await ask();
      }
      expect(res.statusCode).toBe(401);
      expect(problem(res).code).toBe('token_revoked');
    } finally {
      await host.close();
    }
  });
});

describe('ACCESS_TOKEN_REVOCATION=off', () => {
  let off: TestApp;
  beforeAll(async () => {
    off = await buildTestApp({ accessTokenRevocation: 'off' });
  });
  afterAll(() => off.close());

  it('keeps today\'s behaviour: an access token lives until it expires, even on an instance started after the logout-all', async () => {
    const user = await register(off.app);
    const res = await off.app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(user.accessToken) });
    expect(res.statusCode).toBe(200);
    const late = await off.another();
    await accepted(off.app, user.accessToken);
    await accepted(late, user.accessToken);
  });
});
