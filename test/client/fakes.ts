/** Stand-ins for the client's unit tests: an auth API behind a fake fetch, Web Locks, a BroadcastChannel. */

export const BASE = 'https://api.example';
export const USER = { id: 'u1', email: 'ada@example.com' };

export interface Recorded {
  method: string;
  url: string;
  path: string;
  headers: Headers;
  body: unknown;
  credentials: RequestCredentials | undefined;
  /** The Bearer token sent, if any. */
  access: string | undefined;
}

type Handler = (request: Recorded) => Response | Promise<Response>;

export const problem = (status: number, code: string) =>
  new Response(JSON.stringify({ type: 'about:blank', status, title: code, code }), {
    status,
    headers: { 'content-type': 'application/problem+json' },
  });

const json = (status: number, body: unknown) =>
  new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/**
 * The API as the contract describes it, in memory: access tokens `at-N` that expire after
 * `ttl` seconds of the (fake) clock, refresh tokens `rt-N` spent by each refresh, and one
 * cookie jar shared by every "tab" (it only rides on requests with `credentials: 'include'`).
 */
export function fakeApi(ttl = 900) {
  let n = 0;
  const accessExpiry = new Map<string, number>();
  const live = new Set<string>();
  const requests: Recorded[] = [];
  const routes = new Map<string, Handler>();
  const held = new Map<string, Promise<void>>();
  let cookie: string | undefined;

  function tokens(request: Recorded, status = 200) {
    n += 1;
    const accessToken = `at-${n}`;
    const refreshToken = `rt-${n}`;
    accessExpiry.set(accessToken, Date.now() + ttl * 1000);
    live.add(refreshToken);
    const cookieTransport = request.headers.get('x-token-transport') === 'cookie';
    if (cookieTransport) cookie = refreshToken;
    return json(status, {
      tokenType: 'Bearer',
      accessToken,
      expiresIn: ttl,
      refreshToken: cookieTransport ? undefined : refreshToken,
      refreshExpiresIn: 86_400,
      user: USER,
    });
  }

  function bearerRefusal(request: Recorded): Response | undefined {
    if (!request.access) return problem(401, 'token_missing');
    const expiry = accessExpiry.get(request.access);
    if (expiry === undefined) return problem(401, 'token_revoked');
    if (Date.now() >= expiry) return problem(401, 'token_expired');
    return undefined;
  }

  function presentedRefresh(request: Recorded): string | undefined {
    const body = request.body as { refreshToken?: string } | undefined;
    if (body?.refreshToken) return body.refreshToken;
    const cookieAllowed = request.credentials === 'include' && request.headers.get('x-token-transport') === 'cookie';
    return cookieAllowed ? cookie : undefined;
  }

  /** The default answers: what the real server does, simplified. */
  function serve(request: Recorded): Response {
    const key = `${request.method} ${request.path}`;
    switch (key) {
      case 'POST /auth/register':
        return tokens(request, 201);
      case 'POST /auth/login': {
        const { password } = request.body as { password: string };
        return password === 'correct horse' ? tokens(request) : problem(401, 'invalid_credentials');
      }
      case 'POST /auth/refresh': {
        const presented = presentedRefresh(request);
        if (!presented) return problem(401, 'token_missing');
        if (!live.delete(presented)) return problem(401, 'token_revoked');
        return tokens(request);
      }
      case 'POST /auth/logout': {
        const presented = presentedRefresh(request);
        if (presented) live.delete(presented);
        if (request.headers.get('x-token-transport') === 'cookie') cookie = undefined;
        return json(204, null);
      }
      case 'POST /auth/password': {
        const refusal = bearerRefusal(request);
        if (refusal) return refusal;
        if ((request.body as { currentPassword: string }).currentPassword !== 'correct horse') return problem(401, 'invalid_credentials');
        api.revokeAll();
        return tokens(request);
      }
    }
    const refusal = bearerRefusal(request);
    if (refusal) return refusal;
    switch (key) {
      case 'GET /me':
        return json(200, { ...USER, sessionId: 's1' });
      case 'POST /auth/logout-all':
        api.revokeAll();
        return json(200, { refreshTokenVersion: 1, revokedAt: new Date().toISOString() });
      case 'POST /auth/logout-others':
        return json(200, { revokedSessions: 2 });
      case 'GET /auth/sessions':
        return json(200, { sessions: [{ id: 's1', current: true, createdAt: '', lastUsedAt: '', expiresAt: '', userAgent: null, ip: null }] });
      case 'DELETE /me':
        api.revokeAll();
        return json(204, null);
    }
    if (request.method === 'DELETE' && request.path.startsWith('/auth/sessions/')) return json(204, null);
    return json(200, { ok: true, path: request.path });
  }

  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const isRequest = typeof input === 'object' && !(input instanceof URL);
    const url = new URL(isRequest ? input.url : String(input));
    const headers = new Headers(init?.headers ?? (isRequest ? input.headers : undefined));
    const rawBody = init?.body;
    const recorded: Recorded = {
      method: init?.method ?? (isRequest ? input.method : 'GET'),
      url: url.href,
      path: url.pathname,
      headers,
      body: typeof rawBody === 'string' && rawBody.startsWith('{') ? JSON.parse(rawBody) : rawBody,
      credentials: init?.credentials,
      access: headers.get('authorization')?.replace(/^Bearer /, '') ?? undefined,
    };
    requests.push(recorded);
    await held.get(recorded.path);
    const route = routes.get(`${recorded.method} ${recorded.path}`);
    return route ? route(recorded) : serve(recorded);
  };

  const api = {
    fetch,
    requests,
    serve,
    /** Answers `METHOD /path` with `handler` instead (which may call `serve`). */
    route(key: string, handler: Handler) {
      routes.set(key, handler);
    },
    /** Holds every request to `path` until the returned function is called. */
    hold(path: string): () => void {
      let release!: () => void;
      held.set(path, new Promise((resolve) => (release = resolve)));
      return () => {
        held.delete(path);
        release();
      };
    },
    /** Every access and refresh token issued so far stops working (logout-all, password change). */
    revokeAll() {
      accessExpiry.clear();
      live.clear();
    },
    /** The requests to one path. */
    to(path: string, method?: string) {
      return requests.filter((r) => r.path === path && (!method || r.method === method));
    },
    get cookie() {
      return cookie;
    },
    set cookie(value: string | undefined) {
      cookie = value;
      if (value) live.add(value);
    },
  };
  return api;
}

export type FakeApi = ReturnType<typeof fakeApi>;

/** Web Locks, exclusive mode only, FIFO per name; `signal` aborts a request not yet granted. */
export function fakeLocks() {
  const tails = new Map<string, Promise<void>>();
  let granted = 0;
  const locks = {
    get granted() {
      return granted;
    },
    async request<T>(name: string, options: { signal?: AbortSignal }, callback: () => Promise<T>): Promise<T> {
      const previous = tails.get(name) ?? Promise.resolve();
      let release!: () => void;
      const mine = new Promise<void>((resolve) => (release = resolve));
      tails.set(name, mine);
      try {
        await new Promise<void>((resolve, reject) => {
          previous.then(resolve);
          options.signal?.addEventListener('abort', () => reject(new DOMException('The request was aborted', 'AbortError')));
        });
      } catch (error) {
        // Whoever queued behind this request waits for the one before it instead.
        previous.then(release);
        throw error;
      }
      granted += 1;
      try {
        return await callback();
      } finally {
        release();
      }
    },
    /** Takes the lock and never gives it back: a frozen tab. */
    freeze(name: string) {
      void locks.request(name, {}, () => new Promise<never>(() => {}));
    },
  };
  return locks;
}

/**
 * A BroadcastChannel for one process: delivers to the other open channels of the same name, in
 * a microtask, in order. While `held` is set, messages wait in it until `deliver()`: a message
 * slower than a lock's grant, as it can be between real tabs.
 */
export class FakeBroadcastChannel {
  static open = new Set<FakeBroadcastChannel>();
  static held: (() => void)[] | undefined;
  onmessage: ((event: { data: unknown }) => void) | null = null;

  constructor(readonly name: string) {
    FakeBroadcastChannel.open.add(this);
  }

  static deliver() {
    const held = FakeBroadcastChannel.held ?? [];
    FakeBroadcastChannel.held = undefined;
    for (const send of held) send();
  }

  postMessage(data: unknown) {
    for (const other of FakeBroadcastChannel.open) {
      if (other === this || other.name !== this.name) continue;
      const copy = structuredClone(data);
      const send = () => queueMicrotask(() => other.onmessage?.({ data: copy }));
      if (FakeBroadcastChannel.held) FakeBroadcastChannel.held.push(send);
      else send();
    }
  }

  close() {
    FakeBroadcastChannel.open.delete(this);
  }
}

/** A storage adapter that logs each call, in order, into `log` (shared with the fetch log by the tests). */
export function memoryStorage(log: string[] = [], initial?: string) {
  let value = initial;
  return {
    log,
    get value() {
      return value;
    },
    get: async () => {
      log.push('get');
      return value;
    },
    set: async (token: string) => {
      log.push(`set ${token}`);
      value = token;
    },
    delete: async () => {
      log.push('delete');
      value = undefined;
    },
  };
}
