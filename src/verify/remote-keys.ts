import type { JsonWebKey } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../config/clock.js';
import type { KeyVerifier } from './key-store.js';
import { KeyStore, type Expected } from './key-store.js';
import { importPublicKey, KeyImportError, type PublicKey } from './public-key.js';

export interface RemoteKeysOptions {
  url: URL;
  expected: Expected;
  clock: Clock;
  log: FastifyBaseLogger;
  /** At most one fetch per this many ms (on the injected clock), whatever asks for it. */
  cooldownMs: number;
  /** How long keys are fresh when the answer has no `Cache-Control: max-age`. */
  defaultMaxAgeMs: number;
  /** A fetch taking longer is abandoned (a failure). */
  timeoutMs: number;
}

export interface RemoteKeys {
  /** The key's verifier; starts a background refetch (rate-limited) once the keys are stale. */
  get(kid: string): KeyVerifier | undefined;
  /**
   * Fetches the JWKS unless one was started within the cooldown: the fetch in flight (shared
   * by every caller) or a new one, which never rejects; undefined when the cooldown forbids.
   */
  refetch(): Promise<void> | undefined;
  readonly kids: string[];
  close(): void;
}

/** Keys are refreshed at least this often, whatever max-age says. */
const MAX_AGE_CAP_MS = 86_400_000;
/** A JWKS is a few keys; a bigger answer is not one. */
const MAX_BODY_BYTES = 256 * 1024;

/**
 * The keys of a JWKS URL, cached: refreshed in the background once stale (the answer's
 * `Cache-Control: max-age`), refetched when a token names an unknown `kid`, never more
 * than once per cooldown. A failed fetch keeps the last good keys and logs one warning per
 * outage; a successful one replaces them (a key removed from the set stops verifying).
 */
export function createRemoteKeys(options: RemoteKeysOptions): RemoteKeys {
  const { url, clock, log, cooldownMs, defaultMaxAgeMs, timeoutMs } = options;
  const store = new KeyStore(options.expected);
  const closing = new AbortController();
  const where = `${url.origin}${url.pathname}`;
  let inFlight: Promise<void> | undefined;
  let lastFetchAt = -Infinity;
  let staleAt = -Infinity;
  let failing = false;
  const skipped = new Set<string>();

  const fetchOnce = async (startedAt: number) => {
    try {
      const { keys, maxAgeMs } = await download(url, AbortSignal.any([closing.signal, AbortSignal.timeout(timeoutMs)]));
      await store.replace(usableKeys(keys));
      staleAt = startedAt + Math.min(Math.max(maxAgeMs ?? defaultMaxAgeMs, cooldownMs), MAX_AGE_CAP_MS);
      if (failing) log.info({ jwksUrl: where, kids: store.kids }, 'JWKS fetched again');
      else log.debug({ jwksUrl: where, kids: store.kids }, 'JWKS fetched');
      failing = false;
    } catch (error) {
      staleAt = startedAt + cooldownMs;
      const details = { jwksUrl: where, reason: (error as Error).message, kids: store.kids };
      if (closing.signal.aborted) return;
      if (failing) log.debug(details, 'JWKS fetch failed again');
      else log.warn(details, 'JWKS fetch failed: keeping the keys held; tokens naming another kid are refused');
      failing = true;
    }
  };

  /** The keys this service can use; others (RSA, HMAC, other curves, mismatched alg) are skipped with one warning each. */
  const usableKeys = (jwks: unknown[]): PublicKey[] =>
    jwks.flatMap((jwk) => {
      try {
        return [importPublicKey(jwk as JsonWebKey)];
      } catch (error) {
        if (!(error instanceof KeyImportError)) throw error;
        const kid = (jwk as { kid?: unknown })?.kid;
        const name = typeof kid === 'string' ? kid : JSON.stringify(jwk).slice(0, 100);
        if (!skipped.has(name)) log.warn({ jwksUrl: where, kid: name, reason: error.message }, 'JWKS key skipped');
        skipped.add(name);
        return [];
      }
    });

  const refetch = () => {
    if (inFlight) return inFlight;
    const now = clock.now();
    if (closing.signal.aborted || now - lastFetchAt < cooldownMs) return undefined;
    lastFetchAt = now;
    inFlight = fetchOnce(now).finally(() => (inFlight = undefined));
    return inFlight;
  };

  return {
    get(kid) {
      if (clock.now() >= staleAt) void refetch();
      return store.get(kid);
    },
    refetch,
    get kids() {
      return store.kids;
    },
    close: () => closing.abort(),
  };
}

/** GETs the JWKS: its `keys` and the answer's max-age. Throws on anything but a 200 with a JWKS. */
async function download(url: URL, signal: AbortSignal): Promise<{ keys: unknown[]; maxAgeMs: number | undefined }> {
  const response = await fetch(url, { signal, redirect: 'manual', headers: { accept: 'application/json' } });
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new Error(`answered ${response.status}`);
  }
  if (Number(response.headers.get('content-length')) > MAX_BODY_BYTES) {
    await response.body?.cancel();
    throw new Error('answer too large');
  }
  const text = await response.text();
  if (text.length > MAX_BODY_BYTES) throw new Error('answer too large');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error('answer is not JSON');
  }
  const keys = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error('answer is not a JWKS (no keys array)');
  return { keys, maxAgeMs: maxAge(response.headers.get('cache-control')) };
}

/** `max-age` of a Cache-Control header, in ms; 0 for `no-store` / `no-cache`; undefined when absent. */
export function maxAge(header: string | null): number | undefined {
  if (header === null) return undefined;
  if (/(?:^|,)\s*no-(?:store|cache)\s*(?:,|$)/i.test(header)) return 0;
  const match = /(?:^|,)\s*max-age\s*=\s*"?(\d{1,9})"?\s*(?:,|$)/i.exec(header);
  return match ? Number(match[1]) * 1000 : undefined;
}
