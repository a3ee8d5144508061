import { apiError, type AuthApiError } from './errors.js';
import { connectTabs, type TabMessage } from './cross-tab.js';
import type {
  AuthEventList,
  Client,
  ClientOptions,
  Credentials,
  LogoutAllResponse,
  LogoutOthersResponse,
  Me,
  SessionList,
  SignOutReason,
  TokenResponse,
  User,
} from './types.js';

export { AuthApiError } from './errors.js';
export type {
  AuthEvent,
  AuthEventList,
  Client,
  ClientErrorCode,
  ClientOptions,
  Credentials,
  ErrorCode,
  EventsPage,
  LogoutAllResponse,
  LogoutOthersResponse,
  Me,
  PasswordChange,
  PasswordConfirmation,
  ProblemBody,
  Session,
  SessionList,
  SignOutReason,
  TokenResponse,
  TokenStorage,
  User,
} from './types.js';

const ABSOLUTE = /^[a-z][a-z\d+.-]*:/i;
/**
 * `scheme://authority` of an absolute URL, as written (lower-cased), without `URL`, whose
 * getters React Native does not implement. Compared as written, a URL that differs from
 * baseUrl in spelling only (`:443`) counts as foreign: the mistake costs a token, never leaks one.
 */
const originOf = (url: string) => /^[a-z][a-z\d+.-]*:\/\/[^/?#]*/i.exec(url)?.[0].toLowerCase();
const noop = () => {};
/** What a URL parser skips or reads as a slash at the start of a path (controls, spaces, `/`, `\`). */
const LEADING = /^[\x00-\x20/\\]+/;
/** The 401s a new access token can cure: any other (a wrong password, a proxy's) is returned as it is. */
const REFRESHABLE = new Set(['token_expired', 'token_invalid', 'token_revoked']);
/** A refresh that has not answered by then fails (where the runtime has AbortSignal.timeout), so no call waits for ever. */
const REFRESH_TIMEOUT_MS = 30_000;

/**
 * versioned-auth/client: signs in, keeps the access token fresh (one refresh at a time, in
 * this client and, in cookie transport, across the origin's tabs) and attaches it to `fetch`.
 */
export function createClient(options: ClientOptions): Client {
  const { transport, storage } = options;
  const cookie = transport === 'cookie';
  if (!cookie && transport !== 'body') throw new TypeError("transport must be 'cookie' or 'body'");
  if (cookie && storage) throw new TypeError('storage is for body transport: in cookie transport the refresh token is an HttpOnly cookie');
  const g = globalThis as unknown as { location?: { origin: string }; document?: { visibilityState?: string } };
  const base = options.baseUrl.replace(/\/+$/, '');
  // A relative baseUrl (`/api`) is the page's own origin; without a page it is refused here, not at the first call.
  const origin = ABSOLUTE.test(base) ? originOf(base) : g.location?.origin;
  if (!origin) throw new TypeError('baseUrl must be an absolute http(s) URL outside a web page');

  let token: string | undefined;
  /** When `token` expires, on this machine's clock (ms). */
  let expiresAt = 0;
  let user: User | undefined;
  let refreshToken: string | undefined;
  // 'unknown' until the first refresh tells: a reloaded page (cookie) or a restarted app (storage) may have a session.
  let state: 'unknown' | 'in' | 'out' = 'unknown';
  // Bumped by every sign-in and sign-out: a refresh that started before one must not undo it.
  let generation = 0;
  let inflight: Promise<string | undefined> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let used = false;
  let storing: Promise<unknown> = Promise.resolve();
  /** A refresh answered with Retry-After: refused again locally until then. */
  let backoff: { until: number; error: AuthApiError } | undefined;
  const listeners = new Set<(reason: SignOutReason) => void>();
  if (options.onSignedOut) listeners.add(options.onSignedOut);
  const tabs = cookie ? connectTabs(`versioned-auth ${ABSOLUTE.test(base) ? base : origin + base}`, options.lockTimeoutMs ?? 10_000, receive) : undefined;
  const exclusive = <T>(work: () => Promise<T>) => (tabs ? tabs.exclusive(work) : work());

  const call = (input: string | URL | Request, init?: RequestInit) =>
    options.fetch ? options.fetch(input, init) : globalThis.fetch(input, init);

  /** A request to the API: JSON body; the cookie and the transport header where the refresh cookie is read or set. */
  function request(method: string, body?: unknown, withCookie?: boolean, access?: string): RequestInit {
    const headers: Record<string, string> = {};
    if (body) headers['content-type'] = 'application/json';
    if (access) headers.authorization = `Bearer ${access}`;
    if (cookie && withCookie) headers['x-token-transport'] = 'cookie';
    return { method, headers, body: body ? JSON.stringify(body) : undefined, credentials: cookie && withCookie ? 'include' : undefined };
  }

  async function ok<T>(res: Response): Promise<T> {
    if (!res.ok) throw await apiError(res);
    return (res.status === 204 ? undefined : await res.json()) as T;
  }

  /** Storage writes in the order they were asked for: a sign-out's delete never lands before an earlier set. */
  const persist = (op: () => unknown) => (storing = storing.catch(noop).then(op));

  function use(access: string, expires: number, who: User) {
    token = access;
    expiresAt = expires;
    user = who;
    state = 'in';
    used = false;
    clearTimeout(timer);
    // Refresh a little before expiry (30 s, or a tenth of a short lifetime), and only for a
    // client in use since its last token: an idle or hidden tab lets the token lapse and
    // refreshes at its next call instead of refreshing forever in the background.
    const life = expires - Date.now();
    timer = setTimeout(() => {
      if (used && g.document?.visibilityState !== 'hidden') refresh(token).catch(noop);
    }, Math.min(life - Math.min(30_000, life / 10), 2 ** 31 - 1)); // beyond 2^31 - 1 ms a timer fires at once
    (timer as { unref?(): void }).unref?.();
  }

  async function adopt(tokens: TokenResponse, started: number): Promise<string | undefined> {
    if (started !== generation) return token;
    if (!cookie) {
      if (!tokens.refreshToken) throw new TypeError('the token response has no refreshToken: is the server in cookie transport?');
      // The new refresh token is stored before the new access token is used: the old one is
      // spent, and a crash in between must not leave only it behind.
      // If the write fails, the storage holds a spent token whatever this client does next:
      // the new tokens are used all the same (not refreshing again and again), and the error
      // is thrown to the call that asked, once; the next rotation writes again.
      refreshToken = tokens.refreshToken;
      const failed = storage && (await persist(() => storage.set(tokens.refreshToken!)).then(noop, (error: unknown) => ({ error })));
      if (started !== generation) return token;
      if (failed) {
        use(tokens.accessToken, Date.now() + tokens.expiresIn * 1000, tokens.user);
        throw failed.error;
      }
    }
    use(tokens.accessToken, Date.now() + tokens.expiresIn * 1000, tokens.user);
    tabs?.post({ t: 'tokens', accessToken: tokens.accessToken, expiresAt, user: tokens.user });
    return token;
  }

  /**
   * Ends the session here. The other tabs are told when this one was signed in, or when the
   * user asked (`tell`): a tab that merely found no cookie at load stays quiet, since another
   * tab may be signing in at that very moment.
   */
  function signedOut(reason: SignOutReason, tell?: boolean): Promise<unknown> {
    generation++;
    const was = state;
    state = 'out';
    token = user = refreshToken = undefined;
    expiresAt = 0;
    clearTimeout(timer);
    if (was !== 'out') {
      if (tell ?? was === 'in') tabs?.post({ t: 'out', reason });
      // Listeners run after the client's state is settled, and their errors stay theirs.
      for (const listener of listeners) queueMicrotask(() => listener(reason));
    }
    return storage ? persist(() => storage.delete()) : Promise.resolve();
  }

  function receive(message: TabMessage) {
    if (message.t === 'out') signedOut(message.reason, false).catch(noop);
    // Never an older token over a newer one, whatever order the messages arrive in.
    else if (message.accessToken !== token && message.expiresAt >= expiresAt) use(message.accessToken, message.expiresAt, message.user);
  }

  /**
   * A token newer than `stale` (the one a call used, or none): the current one if it already
   * is, else the result of the one refresh in flight, started if there is none.
   */
  function refresh(stale: string | undefined): Promise<string | undefined> {
    if (token !== stale) return Promise.resolve(token);
    return (inflight ??= settle(exclusive(() => exchange(stale, generation))));
  }

  /** `work` as the one thing this client's refreshes wait for, until it settles. */
  function settle<T>(work: Promise<T>): Promise<T> {
    const mine: Promise<T> = work.finally(() => {
      if (inflight === mine) inflight = undefined;
    });
    return mine;
  }

  async function exchange(stale: string | undefined, started: number): Promise<string | undefined> {
    // Another tab may have delivered a token while this one waited for the lock.
    if (token !== stale || started !== generation) return token;
    if (!cookie) {
      refreshToken ??= (await storage?.get()) ?? undefined;
      if (started !== generation) return token;
      if (!refreshToken) {
        signedOut('token_missing').catch(noop);
        return undefined;
      }
    }
    // Told to wait (429, 503 with Retry-After): every call until then gets the same answer, not a new request.
    if (backoff && Date.now() < backoff.until) throw backoff.error;
    const signal = (AbortSignal as { timeout?(ms: number): AbortSignal }).timeout?.(REFRESH_TIMEOUT_MS);
    const res = await call(`${base}/auth/refresh`, { ...request('POST', cookie ? undefined : { refreshToken }, true), signal });
    if (res.ok) return adopt((await res.json()) as TokenResponse, started);
    const error = await apiError(res);
    // A refused refresh token ends the session; a throttled or failed refresh (429, 5xx) does not.
    if (res.status !== 401) {
      if (error.retryAfter) backoff = { until: Date.now() + error.retryAfter * 1000, error };
      throw error;
    }
    if (started === generation) signedOut(error.code).catch(noop);
    return token;
  }

  /** The access token to send now: refreshed first when there is none yet or it has expired. */
  async function current(): Promise<string | undefined> {
    if (state === 'out') return undefined;
    if (token && Date.now() < expiresAt) return token;
    return refresh(token);
  }

  async function authFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const isRequest = typeof input === 'object' && !(input instanceof URL);
    const href = isRequest ? input.url : String(input);
    const absolute = ABSOLUTE.test(href);
    // The token goes to the API's origin and nowhere else.
    if (absolute && originOf(href) !== origin) return call(input, init);
    // Relative paths are appended to baseUrl, never resolved, and start with one slash whatever
    // baseUrl is (even '/'): `//evil.example`, `/\\evil.example`, `/\t/evil.example` stay paths here.
    const target = absolute ? input : `${base}/${href.replace(LEADING, '')}`;
    const body = init?.body ?? (isRequest ? input.body : undefined);
    const replayable = !(body && typeof (body as ReadableStream).getReader === 'function');
    const send = (access: string | undefined) => {
      const headers = new Headers(init?.headers ?? (isRequest ? input.headers : undefined));
      if (access) headers.set('authorization', `Bearer ${access}`);
      return call(target, { ...init, headers });
    };

    used = true;
    const held = token;
    const access = await current();
    const res = await send(access);
    // One refresh per call at most: none when the token was just refreshed, none without a
    // token, none for a 401 a new token cannot cure (a wrong password, a proxy's own).
    if (res.status !== 401 || !access || access !== held) return res;
    const problem = (await res.clone().json().catch(noop)) as { code?: string } | undefined;
    if (!REFRESHABLE.has(problem?.code!)) return res;
    const fresh = await refresh(access);
    return fresh && fresh !== access && replayable ? send(fresh) : res;
  }

  const json = async <T>(path: string, method = 'GET', body?: unknown, withCookie?: boolean) =>
    ok<T>(await authFetch(path, request(method, body, withCookie)));

  /**
   * Sign-in and sign-out set or clear the one cookie every tab shares: they wait for this tab's
   * refresh and run under the tabs' lock, so no refresh's Set-Cookie lands after theirs.
   */
  async function alone<T>(work: () => Promise<T>): Promise<T> {
    await inflight?.catch(noop);
    return exclusive(work);
  }

  const enter = (path: string, credentials: Credentials) =>
    alone(async () => {
      const tokens = await ok<TokenResponse>(await call(base + path, request('POST', credentials, true)));
      // A sign-in wins over whatever happened while it was under way.
      await adopt(tokens, ++generation);
      return tokens.user;
    });

  return {
    register: (credentials) => enter('/auth/register', credentials),
    signIn: (credentials) => enter('/auth/login', credentials),

    signOut: () =>
      // After a refresh in flight, which is spending the refresh token: present the one it brings.
      alone(async () => {
        try {
          const presented = cookie ? undefined : (refreshToken ?? (await storage?.get()) ?? undefined);
          const res = await call(`${base}/auth/logout`, request('POST', presented && { refreshToken: presented }, true, token));
          // 401: the session had already ended.
          if (!res.ok && res.status !== 401) throw await apiError(res);
        } finally {
          await signedOut('signed_out', true);
        }
      }),

    async signOutEverywhere() {
      const result = await json<LogoutAllResponse>('/auth/logout-all', 'POST');
      await signedOut('signed_out_everywhere', true);
      return result;
    },

    signOutOthers: () => json<LogoutOthersResponse>('/auth/logout-others', 'POST'),
    sessions: async () => (await json<SessionList>('/auth/sessions')).sessions,
    revokeSession: (id) => json<void>(`/auth/sessions/${encodeURIComponent(id)}`, 'DELETE'),

    events({ limit, before } = {}) {
      const query = new URLSearchParams();
      if (limit !== undefined) query.set('limit', String(limit));
      if (before !== undefined) query.set('before', before);
      const search = query.toString();
      return json<AuthEventList>(`/auth/events${search ? `?${search}` : ''}`);
    },

    async changePassword(change) {
      await inflight?.catch(noop);
      const access = await current();
      let tokens!: TokenResponse;
      // The change revokes the session every tab holds: a refresh of it racing the change would
      // be refused and sign everyone out. Other tabs wait on the lock; this client's refreshes
      // wait for the change itself, as they wait for a refresh in flight.
      const changed = exclusive(async () => {
        tokens = await ok<TokenResponse>(await call(`${base}/auth/password`, request('POST', change, true, access)));
        return adopt(tokens, ++generation);
      });
      inflight = settle(changed.catch(() => token));
      await changed;
      return tokens.user;
    },

    async deleteAccount(confirmation) {
      await json<void>('/me', 'DELETE', confirmation, true);
      await signedOut('account_deleted', true);
    },

    me: () => json<Me>('/me'),
    fetch: authFetch,

    onSignedOut(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },

    get user() {
      return user;
    },

    close() {
      clearTimeout(timer);
      tabs?.close();
    },
  };
}
