import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuthApiError, createClient, type Client, type ClientOptions, type SignOutReason } from '../../src/client/index.js';
import { BASE, fakeApi, memoryStorage, problem, type FakeApi } from './fakes.js';

const CREDENTIALS = { email: 'ada@example.com', password: 'correct horse' };
const TTL = 900;

let api: FakeApi;
const clients: Client[] = [];
function client(options: Partial<ClientOptions> = {}): Client {
  const c = createClient({ baseUrl: BASE, transport: 'body', fetch: api.fetch, ...options });
  clients.push(c);
  return c;
}

/** Lets every pending promise settle (the fake fetch answers in microtasks). */
const settle = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2026, 11, 2, 12) });
  api = fakeApi(TTL);
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  vi.useRealTimers();
});

describe('createClient', () => {
  it('refuses an unknown transport, storage with cookie transport, and a relative baseUrl outside a page', () => {
    expect(() => createClient({ baseUrl: BASE, transport: 'bearer' as 'body' })).toThrow(TypeError);
    expect(() => createClient({ baseUrl: BASE, transport: 'cookie', storage: memoryStorage() })).toThrow(/storage/);
    expect(() => createClient({ baseUrl: '/api', transport: 'body' })).toThrow();
  });

  it('calls the global fetch at call time when none is given', async () => {
    const c = createClient({ baseUrl: BASE, transport: 'body' });
    clients.push(c);
    vi.stubGlobal('fetch', api.fetch);
    try {
      await c.signIn(CREDENTIALS);
      expect(api.to('/auth/login')).toHaveLength(1);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe('sign-in and calls (body transport)', () => {
  it('signs in, attaches the access token, and sends no cookie header', async () => {
    const c = client();
    expect(await c.signIn(CREDENTIALS)).toEqual({ id: 'u1', email: 'ada@example.com' });
    expect(c.user?.email).toBe('ada@example.com');
    const [login] = api.to('/auth/login');
    expect(login!.body).toEqual(CREDENTIALS);
    expect(login!.headers.get('x-token-transport')).toBeNull();
    expect(login!.credentials).toBeUndefined();

    expect(await c.me()).toEqual({ id: 'u1', email: 'ada@example.com', sessionId: 's1' });
    expect(api.to('/me')[0]!.access).toBe('at-1');
    expect(api.to('/auth/refresh')).toHaveLength(0);
  });

  it('registers', async () => {
    const c = client();
    await c.register(CREDENTIALS);
    expect(api.to('/auth/register')).toHaveLength(1);
    expect((await c.fetch('/things')).status).toBe(200);
    expect(api.to('/things')[0]!.access).toBe('at-1');
  });

  it('throws an AuthApiError with the problem of a refusal', async () => {
    const c = client();
    const error = await c.signIn({ ...CREDENTIALS, password: 'wrong password' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthApiError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_credentials', title: 'invalid_credentials' });
  });

  it('gives an answer that is not problem+json the code unexpected_response', async () => {
    api.route('POST /auth/login', () => new Response('<html>Bad gateway</html>', { status: 502 }));
    await expect(client().signIn(CREDENTIALS)).rejects.toMatchObject({ status: 502, code: 'unexpected_response' });
  });

  it('lets network errors through as they are', async () => {
    api.route('POST /auth/login', () => {
      throw new TypeError('fetch failed');
    });
    await expect(client().signIn(CREDENTIALS)).rejects.toThrow('fetch failed');
  });

  it('asks for the security log with only the page parameters given', async () => {
    const c = client();
    await c.signIn(CREDENTIALS);
    await c.events();
    expect(api.requests.at(-1)!.url).toBe(`${BASE}/auth/events`);
    await c.events({ limit: 5, before: '0f6b3c1e-2d4a-4c8e-9b7a-5e1f2a3b4c5d' });
    expect(api.requests.at(-1)!.url).toBe(`${BASE}/auth/events?limit=5&before=0f6b3c1e-2d4a-4c8e-9b7a-5e1f2a3b4c5d`);
  });

  it('lists and revokes sessions, signs out the others', async () => {
    const c = client();
    await c.signIn(CREDENTIALS);
    expect((await c.sessions())[0]).toMatchObject({ id: 's1', current: true });
    await c.revokeSession('a/b');
    expect(api.requests.at(-1)!.url).toBe(`${BASE}/auth/sessions/a%2Fb`);
    expect(await c.signOutOthers()).toEqual({ revokedSessions: 2 });
    expect(c.user).toBeDefined();
  });
});

describe('fetch: refresh on 401 once, retry once, never loop', () => {
  it('refreshes on a 401 and retries with the new token', async () => {
    const c = client();
    await c.signIn(CREDENTIALS);
    // The server refuses the token the client still believes in (its clock is ahead, a key rotated…).
    api.route('GET /things', (r) => (r.access === 'at-1' ? problem(401, 'token_expired') : api.serve(r)));
    const res = await c.fetch('/things');
    expect(res.status).toBe(200);
    expect(api.to('/things').map((r) => r.access)).toEqual(['at-1', 'at-2']);
    expect(api.to('/auth/refresh').map((r) => r.body)).toEqual([{ refreshToken: 'rt-1' }]);
  });

  it('returns a second 401 as it is: one refresh, two attempts, no loop', async () => {
    const c = client();
    await c.signIn(CREDENTIALS);
    api.route('GET /admin', () => problem(401, 'token_invalid'));
    const res = await c.fetch('/admin');
    expect(res.status).toBe(401);
    expect((await res.json()).code).toBe('token_invalid');
    expect(api.to('/admin')).toHaveLength(2);
    expect(api.to('/auth/refresh')).toHaveLength(1);
  });

  it('does not refresh again for a call whose token was refreshed just before it was sent', async () => {
    const c = client();
    await c.signIn(CREDENTIALS);
    vi.setSystemTime(Date.now() + TTL * 1000); // expired on the client's clock
    api.route('GET /admin', () => problem(401, 'token_invalid'));
    expect((await c.fetch('/admin')).status).toBe(401);
    expect(api.to('/admin').map((r) => r.access)).toEqual(['at-2']);
    expect(api.to('/auth/refresh')).toHaveLength(1);
  });

  it('does not refresh for a wrong password (401 invalid_credentials), nor without a token', async () => {
    const c = client();
    await c.signIn(CREDENTIALS);
    await expect(c.changePassword({ currentPassword: 'wrong password', newPassword: 'another one' })).rejects.toMatchObject({
      code: 'invalid_credentials',
    });
    api.route('GET /login-form', () => problem(401, 'invalid_credentials'));
    expect((await c.fetch('/login-form')).status).toBe(401);
    await c.signOut();
    expect((await c.fetch('/login-form')).status).toBe(401);
    expect(api.to('/auth/refresh')).toHaveLength(0);
    expect(api.to('/login-form').map((r) => r.access)).toEqual(['at-1', undefined]);
  });

  it('refreshes but does not replay a streamed body', async () => {
    const c = client();
    await c.signIn(CREDENTIALS);
    api.route('POST /upload', (r) => (r.access === 'at-1' ? problem(401, 'token_expired') : new Response('ok')));
    const stream = new ReadableStream({ start: (controller) => controller.close() });
    const res = await c.fetch('/upload', { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(401);
    expect(api.to('/upload')).toHaveLength(1);
    expect(api.to('/auth/refresh')).toHaveLength(1);
    expect((await c.fetch('/upload', { method: 'POST', body: 'again' })).status).toBe(200);
    expect(api.to('/upload').at(-1)!.access).toBe('at-2');
  });
});

describe('single flight', () => {
  it('20 calls with an expired token make exactly one refresh, and all use its token', async () => {
    const c = client();
    await c.signIn(CREDENTIALS);
    vi.setSystemTime(Date.now() + (TTL + 1) * 1000);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => c.fetch(`/item/${i}`)));
    expect(answers.every((r) => r.status === 200)).toBe(true);
    expect(api.to('/auth/refresh')).toHaveLength(1);
    expect(new Set(api.requests.filter((r) => r.path.startsWith('/item/')).map((r) => r.access))).toEqual(new Set(['at-2']));
  });

  it('20 calls that each see a 401 wait for one refresh, then each retries once', async () => {
    const c = client();
    await c.signIn(CREDENTIALS);
    // The server's clock is ahead: it refuses the token the client still believes in.
    api.route('GET /item', (r) => (r.access === 'at-1' ? problem(401, 'token_expired') : api.serve(r)));
    const release = api.hold('/auth/refresh');
    const pending = Promise.all(Array.from({ length: 20 }, () => c.fetch('/item')));
    await settle();
    expect(api.to('/auth/refresh')).toHaveLength(1);
    release();
    expect((await pending).map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(api.to('/auth/refresh')).toHaveLength(1);
    expect(api.to('/item')).toHaveLength(40);
  });

  it('a call that saw a 401 after another call refreshed retries with the new token, no second refresh', async () => {
    const c = client();
    await c.signIn(CREDENTIALS);
    api.route('GET /slow', (r) => (r.access === 'at-1' ? problem(401, 'token_expired') : api.serve(r)));
    const releaseSlow = api.hold('/slow');
    const slow = c.fetch('/slow');
    await settle();
    vi.setSystemTime(Date.now() + (TTL + 1) * 1000);
    await c.me(); // refreshes first: at-2
    releaseSlow();
    expect((await slow).status).toBe(200);
    expect(api.to('/slow').map((r) => r.access)).toEqual(['at-1', 'at-2']);
    expect(api.to('/auth/refresh')).toHaveLength(1);
  });
});

describe('proactive refresh', () => {
  it('refreshes 30 s before expiry when the client was used', async () => {
    const c = client();
    await c.signIn(CREDENTIALS);
    await c.me();
    await vi.advanceTimersByTimeAsync((TTL - 31) * 1000);
    expect(api.to('/auth/refresh')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(api.to('/auth/refresh')).toHaveLength(1);
    await c.me();
    expect(api.to('/me').at(-1)!.access).toBe('at-2');
    expect(api.to('/auth/refresh')).toHaveLength(1);
  });

  it('refreshes a tenth of a short lifetime before expiry', async () => {
    api = fakeApi(60);
    const c = client();
    await c.signIn(CREDENTIALS);
    await c.me();
    await vi.advanceTimersByTimeAsync(53_000);
    expect(api.to('/auth/refresh')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(api.to('/auth/refresh')).toHaveLength(1);
  });

  it('lets an idle client’s token lapse and refreshes at its next call instead', async () => {
    const c = client();
    await c.signIn(CREDENTIALS);
    await c.me();
    await vi.advanceTimersByTimeAsync(10 * TTL * 1000);
    expect(api.to('/auth/refresh')).toHaveLength(1); // the one after the use; none after it
    await c.me();
    expect(api.to('/auth/refresh')).toHaveLength(2);
    expect(api.to('/me').at(-1)!.access).toBe('at-3');
  });

  it('does not refresh in a hidden page', async () => {
    vi.stubGlobal('document', { visibilityState: 'hidden' });
    try {
      const c = client();
      await c.signIn(CREDENTIALS);
      await c.me();
      await vi.advanceTimersByTimeAsync(2 * TTL * 1000);
      expect(api.to('/auth/refresh')).toHaveLength(0);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('stops at sign-out', async () => {
    const c = client();
    await c.signIn(CREDENTIALS);
    await c.me();
    await c.signOut();
    await vi.advanceTimersByTimeAsync(2 * TTL * 1000);
    expect(api.to('/auth/refresh')).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not keep a Node process alive (its timer is unref’d)', async () => {
    const c = client();
    await c.signIn(CREDENTIALS);
    const timers = vi.getTimerCount();
    expect(timers).toBe(1);
    // Fake timers have hasRef(); the real ones are unref'd by the same line.
    const spy = vi.spyOn(globalThis, 'setTimeout');
    await c.signIn(CREDENTIALS);
    const handle = spy.mock.results.at(-1)!.value as { hasRef(): boolean };
    expect(handle.hasRef()).toBe(false);
    spy.mockRestore();
  });
});

describe('body transport storage', () => {
  it('stores the new refresh token before the new access token is used', async () => {
    const log: string[] = [];
    const storage = memoryStorage(log);
    const fetch = api.fetch;
    const c = client({
      storage,
      fetch: (input, init) => {
        log.push(`fetch ${new URL(String(input)).pathname} ${new Headers(init?.headers).get('authorization') ?? '-'}`);
        return fetch(input, init);
      },
    });
    await c.signIn(CREDENTIALS);
    vi.setSystemTime(Date.now() + (TTL + 1) * 1000);
    await c.me();
    expect(log).toEqual(['fetch /auth/login -', 'set rt-1', 'fetch /auth/refresh -', 'set rt-2', 'fetch /me Bearer at-2']);
  });

  it('waits for a slow storage write before any call uses the new token', async () => {
    let finishWrite!: () => void;
    const storage = {
      get: async () => 'rt-0',
      set: () => new Promise<void>((resolve) => (finishWrite = resolve)),
      delete: async () => {},
    };
    api.cookie = 'rt-0'; // makes rt-0 a live refresh token in the fake
    const c = client({ storage });
    const call = c.me();
    await settle();
    expect(api.to('/auth/refresh')).toHaveLength(1);
    expect(api.to('/me')).toHaveLength(0);
    finishWrite();
    await call;
    expect(api.to('/me')[0]!.access).toBe('at-1');
  });

  it('reads the stored refresh token once, at the first call after a restart', async () => {
    api.cookie = 'rt-0';
    const storage = memoryStorage([], 'rt-0');
    const c = client({ storage });
    await Promise.all([c.me(), c.me(), c.fetch('/x')]);
    expect(storage.log).toEqual(['get', 'set rt-1']);
    expect(api.to('/auth/refresh')[0]!.body).toEqual({ refreshToken: 'rt-0' });
  });

  it('with nothing stored, is signed out (token_missing) without asking the server', async () => {
    const signedOut = vi.fn();
    const c = client({ storage: memoryStorage(), onSignedOut: signedOut });
    api.route('GET /x', () => new Response('public'));
    const res = await c.fetch('/x');
    expect(res.status).toBe(200);
    expect(api.to('/x')[0]!.access).toBeUndefined();
    expect(api.to('/auth/refresh')).toHaveLength(0);
    expect(signedOut).toHaveBeenCalledWith('token_missing');
  });

  it('when the write fails: the error surfaces once, the new tokens are used all the same (no refresh after refresh), the next rotation writes again', async () => {
    api.cookie = 'rt-0';
    let fail = true;
    const stored: string[] = [];
    const storage = {
      get: async () => 'rt-0',
      set: async (token: string) => {
        if (fail) throw new Error('keychain locked');
        stored.push(token);
      },
      delete: async () => {},
    };
    const c = client({ storage });
    await expect(c.me()).rejects.toThrow('keychain locked');
    await c.me();
    await c.me();
    // One rotation, not one per call: the storage holds the spent rt-0 whatever the client does.
    expect(api.to('/auth/refresh').map((r) => r.body)).toEqual([{ refreshToken: 'rt-0' }]);
    expect(api.to('/me').map((r) => r.access)).toEqual(['at-1', 'at-1']);
    fail = false;
    vi.setSystemTime(Date.now() + (TTL + 1) * 1000);
    await c.me();
    expect(api.to('/auth/refresh').map((r) => r.body)).toEqual([{ refreshToken: 'rt-0' }, { refreshToken: 'rt-1' }]);
    expect(stored).toEqual(['rt-2']);
  });

  it('signs out: logout with the refresh token, then the stored token deleted', async () => {
    const storage = memoryStorage();
    const c = client({ storage });
    await c.signIn(CREDENTIALS);
    await c.signOut();
    expect(api.to('/auth/logout')[0]!.body).toEqual({ refreshToken: 'rt-1' });
    expect(storage.log).toEqual(['set rt-1', 'delete']);
    expect(storage.value).toBeUndefined();
    expect(c.user).toBeUndefined();
  });

  it('a refresh that was in flight at sign-out does not bring the session back', async () => {
    const storage = memoryStorage();
    const c = client({ storage });
    await c.signIn(CREDENTIALS);
    vi.setSystemTime(Date.now() + (TTL + 1) * 1000);
    const release = api.hold('/auth/refresh');
    const call = c.fetch('/x');
    await settle();
    const out = c.signOut();
    await settle();
    release();
    await Promise.all([call, out]);
    // The sign-out waited for the refresh and presented the refresh token it brought.
    expect(api.to('/auth/logout')[0]!.body).toEqual({ refreshToken: 'rt-2' });
    expect(storage.log).toEqual(['set rt-1', 'set rt-2', 'delete']);
    expect(storage.value).toBeUndefined();
    expect(c.user).toBeUndefined();
    await c.fetch('/y');
    expect(api.to('/y')[0]!.access).toBeUndefined();
  });

  it('a sign-in waits for a refresh in flight, then wins: no refresh answer lands after it', async () => {
    const storage = memoryStorage();
    const c = client({ storage });
    await c.signIn(CREDENTIALS); // rt-1, at-1
    vi.setSystemTime(Date.now() + (TTL + 1) * 1000);
    const release = api.hold('/auth/refresh');
    const call = c.fetch('/x');
    await settle();
    const signIn = c.signIn(CREDENTIALS);
    await settle();
    // Not sent while the refresh is under way: its answer (and, in a browser, its Set-Cookie) would land after the sign-in's.
    expect(api.to('/auth/login')).toHaveLength(1);
    release(); // rt-2, at-2
    await call;
    await signIn; // rt-3, at-3
    expect(storage.value).toBe('rt-3');
    await c.me();
    expect(api.to('/me').at(-1)!.access).toBe('at-3');
  });

  it('signs out locally even when the storage cannot be read', async () => {
    const c = client({ storage: { get: () => Promise.reject(new Error('keychain locked')), set: () => {}, delete: () => {} } });
    await c.signIn(CREDENTIALS);
    const fresh = client({ storage: { get: () => Promise.reject(new Error('keychain locked')), set: () => {}, delete: () => {} } });
    await expect(fresh.signOut()).rejects.toThrow('keychain locked');
    await c.signOut();
    expect(api.to('/auth/logout')[0]!.body).toEqual({ refreshToken: 'rt-1' });
    expect(c.user).toBeUndefined();
  });

  it('signs out locally and says so when the server cannot be reached', async () => {
    const storage = memoryStorage();
    const c = client({ storage });
    await c.signIn(CREDENTIALS);
    api.route('POST /auth/logout', () => problem(503, 'service_unavailable'));
    await expect(c.signOut()).rejects.toMatchObject({ status: 503 });
    expect(storage.value).toBeUndefined();
    expect(c.user).toBeUndefined();
  });
});

describe('sign-out events', () => {
  it.each(['token_revoked', 'refresh_token_reused', 'token_expired', 'token_invalid', 'token_missing'])(
    'a refresh refused with %s signs out once, however many calls wait for it',
    async (code) => {
      const reasons: SignOutReason[] = [];
      const c = client({ onSignedOut: (reason) => reasons.push(reason) });
      const second = vi.fn();
      c.onSignedOut(second);
      await c.signIn(CREDENTIALS);
      api.route('POST /auth/refresh', () => problem(401, code));
      vi.setSystemTime(Date.now() + (TTL + 1) * 1000);
      api.route('GET /private', (r) => (r.access ? api.serve(r) : problem(401, 'token_missing')));
      const answers = await Promise.all(Array.from({ length: 20 }, () => c.fetch('/private')));
      expect(answers.map((r) => r.status)).toEqual(Array(20).fill(401));
      expect(api.to('/auth/refresh')).toHaveLength(1);
      expect(reasons).toEqual([code]);
      expect(second).toHaveBeenCalledTimes(1);
      expect(c.user).toBeUndefined();
      await expect(c.me()).rejects.toMatchObject({ status: 401, code: 'token_missing' });
      expect(api.to('/auth/refresh')).toHaveLength(1);
      expect(reasons).toHaveLength(1);
    },
  );

  it('a 401 on a call with an access token revoked by the server: refresh refused, the 401 returned, signed out', async () => {
    const reasons: SignOutReason[] = [];
    const c = client({ onSignedOut: (r) => reasons.push(r) });
    await c.signIn(CREDENTIALS);
    api.revokeAll();
    const res = await c.fetch('/x');
    expect(res.status).toBe(401);
    expect(api.to('/x')).toHaveLength(1);
    expect(reasons).toEqual(['token_revoked']);
  });

  it.each([
    ['503', () => problem(503, 'service_unavailable'), { status: 503, code: 'service_unavailable' }],
    ['429', () => problem(429, 'rate_limited'), { status: 429, code: 'rate_limited' }],
    ['a network error', () => Promise.reject(new TypeError('fetch failed')), { message: 'fetch failed' }],
  ] as const)('a refresh that fails with %s throws, and keeps the session', async (_name, answer, expected) => {
    const signedOut = vi.fn();
    const c = client({ onSignedOut: signedOut });
    await c.signIn(CREDENTIALS);
    vi.setSystemTime(Date.now() + (TTL + 1) * 1000);
    api.route('POST /auth/refresh', answer as () => Response);
    await expect(c.me()).rejects.toMatchObject(expected);
    expect(signedOut).not.toHaveBeenCalled();
    expect(c.user).toBeDefined();
    api.route('POST /auth/refresh', (r) => api.serve(r));
    await expect(c.me()).resolves.toMatchObject({ id: 'u1' });
    expect(api.to('/auth/refresh').at(-1)!.body).toEqual({ refreshToken: 'rt-1' });
  });

  it('a refresh answered 429 with Retry-After: calls until then get the same error without a request; after it, one refresh', async () => {
    const c = client();
    await c.signIn(CREDENTIALS);
    vi.setSystemTime(Date.now() + (TTL + 1) * 1000);
    api.route('POST /auth/refresh', () => {
      const res = problem(429, 'rate_limited');
      res.headers.set('retry-after', '60');
      return res;
    });
    await expect(c.me()).rejects.toMatchObject({ status: 429, retryAfter: 60 });
    vi.setSystemTime(Date.now() + 59_000);
    await expect(c.me()).rejects.toMatchObject({ status: 429 });
    expect(api.to('/auth/refresh')).toHaveLength(1);
    api.route('POST /auth/refresh', (r) => api.serve(r));
    vi.setSystemTime(Date.now() + 1000);
    await expect(c.me()).resolves.toMatchObject({ id: 'u1' });
    expect(api.to('/auth/refresh')).toHaveLength(2);
  });

  it('signOut, signOutEverywhere and deleteAccount each fire their reason', async () => {
    const reasons: SignOutReason[] = [];
    const c = client({ onSignedOut: (r) => reasons.push(r) });
    await c.signIn(CREDENTIALS);
    await c.signOut();
    await c.signIn(CREDENTIALS);
    expect(await c.signOutEverywhere()).toMatchObject({ refreshTokenVersion: 1 });
    await c.signIn(CREDENTIALS);
    await c.deleteAccount({ password: 'correct horse' });
    await settle();
    expect(reasons).toEqual(['signed_out', 'signed_out_everywhere', 'account_deleted']);
    expect(api.to('/me', 'DELETE')[0]!.body).toEqual({ password: 'correct horse' });
  });

  it('a listener removed is not called; a listener that throws does not break the client', async () => {
    const removed = vi.fn();
    const c = client();
    const off = c.onSignedOut(removed);
    off();
    await c.signIn(CREDENTIALS);
    await c.signOut();
    await settle();
    expect(removed).not.toHaveBeenCalled();
  });

  it('a call that needs a refresh during a password change waits for the new session instead', async () => {
    const c = client({ storage: memoryStorage() });
    await c.signIn(CREDENTIALS);
    api.route('GET /x', (r) => (r.access === 'at-1' ? problem(401, 'token_expired') : api.serve(r)));
    const release = api.hold('/auth/password');
    const change = c.changePassword({ currentPassword: 'correct horse', newPassword: 'battery staple' });
    await settle();
    const call = c.fetch('/x');
    await settle();
    release();
    await change;
    expect((await call).status).toBe(200);
    expect(api.to('/x').map((r) => r.access)).toEqual(['at-1', 'at-2']);
    expect(api.to('/auth/refresh')).toHaveLength(0);
  });

  it('a failed password change keeps the session and its refresh token', async () => {
    const storage = memoryStorage();
    const c = client({ storage });
    await c.signIn(CREDENTIALS);
    api.route('GET /x', (r) => (r.access === 'at-1' ? problem(401, 'token_expired') : api.serve(r)));
    const release = api.hold('/auth/password');
    const change = c.changePassword({ currentPassword: 'wrong password', newPassword: 'battery staple' });
    await settle();
    const call = c.fetch('/x');
    await settle();
    release();
    await expect(change).rejects.toMatchObject({ code: 'invalid_credentials' });
    // The call waited for the change, which brought no new token: its 401 is returned as is.
    expect((await call).status).toBe(401);
    expect(api.to('/auth/refresh')).toHaveLength(0);
    expect(storage.value).toBe('rt-1');
    expect((await c.fetch('/x')).status).toBe(200);
    expect(api.to('/auth/refresh').map((r) => r.body)).toEqual([{ refreshToken: 'rt-1' }]);
  });

  it('changePassword moves to the new session', async () => {
    const storage = memoryStorage();
    const c = client({ storage });
    await c.signIn(CREDENTIALS);
    await c.changePassword({ currentPassword: 'correct horse', newPassword: 'battery staple' });
    expect(storage.value).toBe('rt-2');
    await c.me();
    expect(api.to('/me')[0]!.access).toBe('at-2');
    expect(api.to('/auth/password')[0]!.access).toBe('at-1');
  });
});

describe('foreign origins never see the token', () => {
  it.each([
    ['an absolute URL of another origin', 'https://evil.example/collect'],
    ['a look-alike host', 'https://api.example.evil.example/x'],
    ['another port', 'https://api.example:8443/x'],
    ['another scheme', 'http://api.example/x'],
    ['user info before a foreign host', 'https://api.example@evil.example/x'],
    ['a backslash before a foreign host', 'https://evil.example\\@api.example/x'],
    ['the default port written out (compared as written: no token, by design)', 'https://api.example:443/x'],
    ['a URL object', new URL('https://evil.example/x')],
    ['a Request', new Request('https://evil.example/x')],
  ])('%s', async (_name, input) => {
    const c = client();
    await c.signIn(CREDENTIALS);
    api.route('GET /x', () => problem(401, 'token_missing'));
    api.route('GET /collect', () => problem(401, 'token_missing'));
    const res = await c.fetch(input);
    expect(res.status).toBe(401);
    const sent = api.requests.at(-1)!;
    expect(sent.headers.get('authorization')).toBeNull();
    expect(api.to('/auth/refresh')).toHaveLength(0);
  });

  it('appends a protocol-relative path to the base as a path, whatever the base', async () => {
    const c = client();
    await c.signIn(CREDENTIALS);
    for (const path of ['//evil.example/x', '/\\evil.example/x', '\\\\evil.example/x', '/\t/evil.example/x', ' //evil.example/x']) {
      await c.fetch(path);
      expect(api.requests.at(-1)!.url).toBe('https://api.example/evil.example/x');
    }
  });

  it("with baseUrl '/' in a page, a protocol-relative path stays on the page's origin, token and all", async () => {
    vi.stubGlobal('location', { origin: 'https://app.example', href: 'https://app.example/' });
    const seen: string[] = [];
    const c = createClient({
      baseUrl: '/',
      transport: 'body',
      fetch: async (input, init) => {
        // As a browser resolves a relative URL: against the page.
        const url = new URL(String(input), 'https://app.example/');
        seen.push(`${url.origin} ${new Headers(init?.headers).get('authorization') ? 'token' : 'none'}`);
        return url.pathname === '/auth/login' ? api.fetch(`${BASE}/auth/login`, init) : new Response('ok');
      },
    });
    await c.signIn(CREDENTIALS);
    for (const path of ['//evil.example/x', '/\\evil.example/x', '/\t/evil.example/x']) await c.fetch(path);
    expect(seen.slice(1)).toEqual(Array(3).fill('https://app.example token'));
    c.close();
  });

  it('attaches the token to absolute URLs, URL objects and Requests of the API’s origin', async () => {
    const c = client();
    await c.signIn(CREDENTIALS);
    await c.fetch(`${BASE}/a`);
    await c.fetch(new URL(`${BASE}/b`));
    await c.fetch(new Request(`${BASE}/c`, { headers: { 'x-kept': '1' } }));
    await c.fetch('d', { headers: { 'x-kept': '2' } });
    expect(api.requests.slice(-4).map((r) => [r.path, r.access, r.headers.get('x-kept')])).toEqual([
      ['/a', 'at-1', null],
      ['/b', 'at-1', null],
      ['/c', 'at-1', '1'],
      ['/d', 'at-1', '2'],
    ]);
  });

  it('compares the origin case-insensitively', async () => {
    const c = client();
    await c.signIn(CREDENTIALS);
    await c.fetch('HTTPS://API.EXAMPLE/x');
    expect(api.requests.at(-1)!.access).toBe('at-1');
  });

  it('takes a relative baseUrl in a page as the page’s origin', async () => {
    vi.stubGlobal('location', { origin: BASE });
    try {
      const c = client({ baseUrl: '/api', fetch: (input, init) => api.fetch(new URL(String(input), BASE), init) });
      api.route('POST /api/auth/login', (r) => api.serve({ ...r, path: '/auth/login' }));
      await c.signIn(CREDENTIALS);
      await c.fetch('/x');
      await c.fetch(`${BASE}/y`);
      await c.fetch('https://evil.example/z');
      expect(api.requests.slice(1).map((r) => [r.url, r.access])).toEqual([
        [`${BASE}/api/x`, 'at-1'],
        [`${BASE}/y`, 'at-1'],
        ['https://evil.example/z', undefined],
      ]);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('keeps a base path', async () => {
    const c = client({ baseUrl: `${BASE}/v1/` });
    api.route('POST /v1/auth/login', (r) => api.serve({ ...r, path: '/auth/login' }));
    await c.signIn(CREDENTIALS);
    await c.fetch('/me');
    expect(api.requests.map((r) => r.path)).toEqual(['/v1/auth/login', '/v1/me']);
  });
});
