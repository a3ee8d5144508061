import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient, type Client, type SignOutReason } from '../../src/client/index.js';
import { BASE, FakeBroadcastChannel, fakeApi, fakeLocks, type FakeApi } from './fakes.js';

const CREDENTIALS = { email: 'ada@example.com', password: 'correct horse' };
const TTL = 900;
const LOCK = `versioned-auth ${BASE}`;

let api: FakeApi;
let locks: ReturnType<typeof fakeLocks>;
const tabs: Client[] = [];
/** A tab of the SPA: cookie transport, the origin's one cookie jar (the fake API's), the shared lock and channel. */
function tab(onSignedOut?: (reason: SignOutReason) => void, lockTimeoutMs?: number): Client {
  const c = createClient({ baseUrl: BASE, transport: 'cookie', fetch: api.fetch, onSignedOut, lockTimeoutMs });
  tabs.push(c);
  return c;
}
const settle = () => vi.advanceTimersByTimeAsync(0);
const expire = () => vi.setSystemTime(Date.now() + (TTL + 1) * 1000);

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2026, 11, 2, 12) });
  api = fakeApi(TTL);
  locks = fakeLocks();
  vi.stubGlobal('navigator', { locks });
  vi.stubGlobal('BroadcastChannel', FakeBroadcastChannel);
});
afterEach(() => {
  FakeBroadcastChannel.held = undefined;
  for (const c of tabs.splice(0)) c.close();
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

/** Two tabs signed in (rt-1, at-1), the token expired, and tab a's refresh sent but not yet answered. */
async function refreshingInTabA() {
  const a = tab();
  const b = tab();
  await a.signIn(CREDENTIALS);
  await settle();
  expire();
  const release = api.hold('/auth/refresh');
  const first = a.me();
  await settle();
  return { a, b, release, first };
}

describe('cookie transport', () => {
  it('sends X-Token-Transport: cookie with credentials on register, login, refresh, logout, password change and deletion', async () => {
    const c = tab();
    await c.register(CREDENTIALS);
    await c.signIn(CREDENTIALS);
    expire();
    await c.me();
    await c.changePassword({ currentPassword: 'correct horse', newPassword: 'battery staple' });
    await c.deleteAccount({ password: 'battery staple' });
    await c.signIn(CREDENTIALS);
    await c.signOut();
    const cookieRequests = api.requests.filter((r) => r.path !== '/me' || r.method === 'DELETE');
    expect(cookieRequests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /auth/register',
      'POST /auth/login',
      'POST /auth/refresh',
      'POST /auth/password',
      'DELETE /me',
      'POST /auth/login',
      'POST /auth/logout',
    ]);
    for (const r of cookieRequests) {
      expect(r.headers.get('x-token-transport')).toBe('cookie');
      expect(r.credentials).toBe('include');
    }
    expect(api.to('/auth/refresh')[0]!.body).toBeUndefined();
    // Calls that need no cookie carry none, nor the header.
    const get = api.to('/me', 'GET')[0]!;
    expect(get.credentials).toBeUndefined();
    expect(get.headers.get('x-token-transport')).toBeNull();
  });

  it('after a reload, the first calls refresh from the cookie first (once)', async () => {
    api.cookie = 'rt-0';
    const c = tab();
    const [me] = await Promise.all([c.me(), c.fetch('/a'), c.fetch('/b')]);
    expect(me.email).toBe('ada@example.com');
    expect(api.to('/auth/refresh')).toHaveLength(1);
    expect(api.requests.map((r) => r.path)).toEqual(['/auth/refresh', '/me', '/a', '/b']);
  });

  it('after a reload with no cookie: signed out (token_missing), once', async () => {
    const reasons: SignOutReason[] = [];
    const c = tab((r) => reasons.push(r));
    await expect(c.me()).rejects.toMatchObject({ status: 401, code: 'token_missing' });
    await expect(c.me()).rejects.toMatchObject({ status: 401 });
    await settle();
    expect(reasons).toEqual(['token_missing']);
    expect(api.to('/auth/refresh')).toHaveLength(1);
  });
});

describe('across tabs', () => {
  it('a sign-in in one tab reaches the others', async () => {
    const a = tab();
    const b = tab();
    await a.signIn(CREDENTIALS);
    await settle();
    expect(b.user?.email).toBe('ada@example.com');
    await b.me();
    expect(api.to('/me')[0]!.access).toBe('at-1');
    expect(api.to('/auth/refresh')).toHaveLength(0);
  });

  it('tabs whose tokens expired together make one refresh between them', async () => {
    const all = [tab(), tab(), tab()];
    await all[0]!.signIn(CREDENTIALS);
    await settle();
    expire();
    const answers = await Promise.all(all.flatMap((c) => [c.me(), c.me()]));
    expect(answers).toHaveLength(6);
    expect(api.to('/auth/refresh')).toHaveLength(1);
    expect(new Set(api.to('/me').map((r) => r.access))).toEqual(new Set(['at-2']));
  });

  it('a tab that was told of a new token while waiting for the lock does not refresh', async () => {
    const { b, release, first } = await refreshingInTabA();
    const second = b.me(); // queued behind a's lock
    await settle();
    release();
    await Promise.all([first, second]);
    expect(api.to('/auth/refresh')).toHaveLength(1);
    expect(locks.granted).toBe(3); // the sign-in, then one refresh each
  });

  it("granted the lock before the holder's new token arrives, a tab waits for the holder's 'done' and refreshes nothing", async () => {
    const { b, release, first } = await refreshingInTabA();
    const second = b.me(); // waits for a's lock
    await settle();
    // a's messages (its token, then 'done') travel slower than the lock's grant to b.
    FakeBroadcastChannel.held = [];
    release();
    await first;
    await settle();
    expect(locks.granted).toBe(3); // the sign-in, then one refresh each
    expect(api.to('/auth/refresh')).toHaveLength(1);
    FakeBroadcastChannel.deliver();
    await second;
    expect(api.to('/auth/refresh')).toHaveLength(1);
    expect(api.to('/me').at(-1)!.access).toBe('at-2');
  });

  it("a holder whose 'done' never comes (a tab closed mid-refresh): the next tab refreshes after a second", async () => {
    const { b, release, first } = await refreshingInTabA();
    const second = b.me();
    await settle();
    FakeBroadcastChannel.held = []; // never delivered
    release();
    await first;
    await vi.advanceTimersByTimeAsync(999);
    expect(api.to('/auth/refresh')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await second;
    expect(api.to('/auth/refresh')).toHaveLength(2);
  });

  it("a sign-in in one tab waits for another tab's refresh: no refresh's Set-Cookie lands after the sign-in's", async () => {
    const { a, b, release, first } = await refreshingInTabA();
    const signIn = b.signIn(CREDENTIALS);
    await settle();
    expect(api.to('/auth/login')).toHaveLength(1);
    release(); // rt-2
    await first;
    await signIn; // rt-3: the cookie is the sign-in's
    await settle();
    expect(api.cookie).toBe('rt-3');
    expect(api.to('/auth/login')).toHaveLength(2);
    await a.me();
    expect(api.to('/me').at(-1)!.access).toBe('at-3');
  });

  it("a tab that takes a free lock while the last holder's 'done' is still on its way waits for it", async () => {
    const { b, release, first } = await refreshingInTabA();
    // a's token and 'done' are slower than the lock: b's call comes after a let go, before the news.
    FakeBroadcastChannel.held = [];
    release();
    await first;
    const second = b.me();
    await settle();
    expect(api.to('/auth/refresh')).toHaveLength(1);
    FakeBroadcastChannel.deliver();
    await second;
    expect(api.to('/auth/refresh')).toHaveLength(1);
    expect(api.to('/me').at(-1)!.access).toBe('at-2');
  });

  it('a lock held by a frozen tab: the others refresh anyway after the timeout', async () => {
    const a = tab(undefined, 5000);
    await a.signIn(CREDENTIALS);
    expire();
    locks.freeze(LOCK);
    const call = a.me();
    await vi.advanceTimersByTimeAsync(4999);
    expect(api.to('/auth/refresh')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await call;
    expect(api.to('/auth/refresh')).toHaveLength(1);
    expect(api.to('/me')[0]!.access).toBe('at-2');
  });

  it('without Web Locks or BroadcastChannel, still one refresh per tab', async () => {
    vi.unstubAllGlobals();
    vi.stubGlobal('BroadcastChannel', undefined);
    const a = tab();
    await a.signIn(CREDENTIALS);
    expire();
    await Promise.all([a.me(), a.me()]);
    expect(api.to('/auth/refresh')).toHaveLength(1);
  });

  it('sign-out in one tab signs out all', async () => {
    const reasons: string[] = [];
    const a = tab((r) => reasons.push(`a ${r}`));
    const b = tab((r) => reasons.push(`b ${r}`));
    await a.signIn(CREDENTIALS);
    await settle();
    await a.signOut();
    await settle();
    expect(reasons.sort()).toEqual(['a signed_out', 'b signed_out']);
    expect(b.user).toBeUndefined();
    api.route('GET /x', (r) => new Response(r.access ?? 'none'));
    expect(await (await b.fetch('/x')).text()).toBe('none');
    expect(api.to('/auth/refresh')).toHaveLength(0);
  });

  it('a tab that found no cookie at load tells no one; a sign-out asked for in a fresh tab tells everyone', async () => {
    const reasons: string[] = [];
    const a = tab((r) => reasons.push(`a ${r}`));
    await a.signIn(CREDENTIALS);
    const cookie = api.cookie;
    api.cookie = undefined;
    const loading = tab((r) => reasons.push(`loading ${r}`));
    await expect(loading.me()).rejects.toMatchObject({ code: 'token_missing' });
    await settle();
    expect(reasons).toEqual(['loading token_missing']);
    expect(a.user).toBeDefined();

    api.cookie = cookie;
    const fresh = tab((r) => reasons.push(`fresh ${r}`));
    await fresh.signOut();
    await settle();
    expect(reasons.slice(1).sort()).toEqual(['a signed_out', 'fresh signed_out']);
    expect(api.to('/auth/logout')[0]!.credentials).toBe('include');
  });

  it('a refresh refused in one tab signs out the others with its code', async () => {
    const reasons: string[] = [];
    const a = tab((r) => reasons.push(`a ${r}`));
    tab((r) => reasons.push(`b ${r}`));
    await a.signIn(CREDENTIALS);
    await settle();
    api.revokeAll(); // logout-all from another device
    expect((await a.fetch('/x')).status).toBe(401);
    await settle();
    expect(reasons.sort()).toEqual(['a token_revoked', 'b token_revoked']);
  });

  it('changePassword: the other tabs move to the new session', async () => {
    const a = tab();
    const b = tab();
    await a.signIn(CREDENTIALS);
    await settle();
    await a.changePassword({ currentPassword: 'correct horse', newPassword: 'battery staple' });
    await settle();
    await b.me();
    expect(api.to('/me').at(-1)!.access).toBe('at-2');
    expect(api.to('/auth/refresh')).toHaveLength(0);
  });
});

describe("Node's own BroadcastChannel", () => {
  it('carries a sign-in between two clients of one process', async () => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
    const a = tab();
    const b = tab();
    await a.signIn(CREDENTIALS);
    await vi.waitFor(() => expect(b.user?.email).toBe('ada@example.com'));
  });
});
