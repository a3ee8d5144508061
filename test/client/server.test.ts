import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthApiError, createClient, type Client, type SignOutReason } from 'versioned-auth/client';
import { buildTestApp, PASSWORD, uniqueEmail, type TestApp } from '../helper.js';

// The client as a Node 20 app uses it (the built package, the global fetch) against the real server.
let t: TestApp;
let baseUrl: string;
beforeAll(async () => {
  t = await buildTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
});
afterAll(() => t.close());

/** The access token's revocation reaches the instance through the feed, within a second: poll (bounded) for the 401. */
async function refusedEventually(client: Client, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while ((await client.fetch('/me')).status !== 401) {
    if (performance.now() > deadline) throw new Error(`still accepted after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('versioned-auth/client against the server (body transport)', () => {
  it('reads its security log a page at a time, newest first', async () => {
    const client = createClient({ baseUrl, transport: 'body' });
    const email = uniqueEmail('client-events');
    await client.register({ email, password: PASSWORD });
    t.clock.advance(1);
    await client.signIn({ email, password: PASSWORD });

    const first = await client.events({ limit: 1 });
    expect(first.events.map((event) => event.type)).toEqual(['login']);
    expect(first.next).toEqual(expect.any(String));
    const rest = await client.events({ before: first.next! });
    expect(rest).toMatchObject({ events: [{ type: 'register' }], next: null });
    expect((await client.events()).events.map((event) => event.type)).toEqual(['login', 'register']);
    // Refused like any Bearer call once signed out.
    await client.signOut();
    await expect(client.events()).rejects.toMatchObject({ status: 401 });
    client.close();
  });

  it('register → me → the access token expires → fetch refreshes → signOutEverywhere', async () => {
    const stored: string[] = [];
    let refreshToken: string | null = null;
    const storage = {
      get: async () => refreshToken,
      set: async (token: string) => void stored.push((refreshToken = token)),
      delete: async () => void (refreshToken = null),
    };
    const reasons: SignOutReason[] = [];
    const client = createClient({ baseUrl, transport: 'body', storage, onSignedOut: (r) => reasons.push(r) });
    const email = uniqueEmail('client');

    const user = await client.register({ email, password: PASSWORD });
    expect(user.email).toBe(email);
    expect(stored).toHaveLength(1);
    expect(await client.me()).toMatchObject({ id: user.id, email });

    // The server's clock moves past the access token's lifetime (and the 30 s skew); the
    // client's does not, so it learns of the expiry from a 401 token_expired.
    t.clock.advance(t.config.jwt.accessTtl + 31);
    const res = await client.fetch('/me');
    expect(res.status).toBe(200);
    expect((await res.json()).email).toBe(email);
    expect(stored).toHaveLength(2);
    expect(stored[1]).not.toBe(stored[0]);

    expect((await client.sessions()).filter((s) => s.current)).toHaveLength(1);

    const result = await client.signOutEverywhere();
    expect(result.refreshTokenVersion).toBe(1);
    expect(refreshToken).toBeNull();
    expect(client.user).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(reasons).toEqual(['signed_out_everywhere']);

    // The old refresh token is refused: a second client restarted from it is signed out by the server.
    const restarted = createClient({ baseUrl, transport: 'body', storage: { ...storage, get: async () => stored[1]! } });
    const restartedReasons: SignOutReason[] = [];
    restarted.onSignedOut((r) => restartedReasons.push(r));
    const error = await restarted.me().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthApiError);
    expect(error).toMatchObject({ status: 401, code: 'token_missing' });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(restartedReasons).toEqual(['token_revoked']);
    client.close();
    restarted.close();
  });

  it('changes the password, revokes a session, deletes the account', async () => {
    const email = uniqueEmail('client');
    const phone = createClient({ baseUrl, transport: 'body' });
    const laptop = createClient({ baseUrl, transport: 'body' });
    await phone.register({ email, password: PASSWORD });
    await laptop.signIn({ email, password: PASSWORD });

    await expect(phone.signIn({ email, password: 'not the password' })).rejects.toMatchObject({ status: 401, code: 'invalid_credentials' });
    const others = await phone.signOutOthers();
    expect(others.revokedSessions).toBe(1);
    await refusedEventually(laptop);
    expect(laptop.user).toBeUndefined();

    await laptop.signIn({ email, password: PASSWORD });
    const laptopSession = (await laptop.me()).sessionId;
    await phone.revokeSession(laptopSession);
    await refusedEventually(laptop);

    const newPassword = 'a new and long password';
    await phone.changePassword({ currentPassword: PASSWORD, newPassword });
    expect((await phone.me()).email).toBe(email);
    await expect(phone.deleteAccount({ password: 'wrong password!' })).rejects.toMatchObject({ code: 'invalid_credentials' });
    await phone.deleteAccount({ password: newPassword });
    await expect(phone.signIn({ email, password: newPassword })).rejects.toMatchObject({ code: 'invalid_credentials' });
    phone.close();
    laptop.close();
  });
});
