import type { JsonWebKey } from 'node:crypto';
import { systemClock, type Clock } from '../config/clock.js';
import { parseDuration } from '../config/duration.js';
import type { Database } from '../db/client.js';
import { importPublicKey, KeyImportError, type PublicKey } from './public-key.js';

export interface VerifyOptions {
  /** The auth service's `GET /.well-known/jwks.json` (or `publicKeys`, not both). */
  jwksUrl?: string;
  /** Fixed keys instead of a JWKS URL: public JWKs or SPKI PEM strings (Ed25519 or P-256). */
  publicKeys?: ReadonlyArray<JsonWebKey | string>;
  /** The service's JWT_ISSUER. */
  issuer: string;
  /** The service's JWT_AUDIENCE. */
  audience: string;
  /** Follow the service's revocation feed (PostgreSQL): revoked access tokens refused within about a second. */
  revocation?: {
    /** The auth service's `DATABASE_URL` (a role that can read `revocations` is enough; every session is read-only). */
    databaseUrl?: string;
    /** Or an open database of `openDatabase` that you own and close (the auth service's own, in one process). */
    database?: Database;
    /** The service's ACCESS_TOKEN_TTL (seconds, or `15m`…); default 15m. */
    accessTokenTtl?: number | string;
  };
  /** Where "now" comes from; the system clock by default. */
  clock?: Clock;
  /** The names of what the plugin gives the host, for a host that already uses them. */
  decorators?: { authenticate?: string; user?: string };
  /** JWKS caching, in seconds. */
  jwks?: {
    /** At most one fetch per this many seconds, however many unknown `kid`s arrive; default 30, at least 1. */
    cooldown?: number;
    /** How long keys are fresh when the answer has no `Cache-Control: max-age`; default 300. */
    maxAge?: number;
    /** A fetch slower than this fails; default 5. */
    timeout?: number;
  };
}

/** The options, checked: every mistake fails registration with a message naming the option. */
export interface ParsedOptions {
  source: { kind: 'jwks'; url: URL } | { kind: 'static'; keys: PublicKey[] };
  issuer: string;
  audience: string;
  revocation?: { databaseUrl?: string; database?: Database; accessTokenTtl: number };
  clock: Clock;
  names: { authenticate: string; user: string };
  jwks: { cooldownMs: number; maxAgeMs: number; timeoutMs: number };
}

const fail = (option: string, problem: string): never => {
  throw new Error(`versioned-auth/verify: ${option} ${problem}`);
};

/** Validates the plugin's options at registration (fail fast, like @fastify/jwt). */
export function parseVerifyOptions(options: VerifyOptions): ParsedOptions {
  const { jwksUrl, publicKeys } = options ?? ({} as VerifyOptions);
  if ((jwksUrl === undefined) === (publicKeys === undefined)) fail('jwksUrl / publicKeys', 'exactly one of them is required');
  return {
    source: jwksUrl !== undefined ? { kind: 'jwks', url: httpUrl(jwksUrl) } : { kind: 'static', keys: staticKeys(publicKeys!) },
    issuer: nonEmpty(options.issuer, 'issuer'),
    audience: nonEmpty(options.audience, 'audience'),
    revocation: options.revocation === undefined ? undefined : revocation(options.revocation),
    clock: clock(options.clock),
    names: {
      authenticate: nonEmpty(options.decorators?.authenticate ?? 'authenticate', 'decorators.authenticate'),
      user: nonEmpty(options.decorators?.user ?? 'user', 'decorators.user'),
    },
    jwks: {
      cooldownMs: seconds(options.jwks?.cooldown ?? 30, 'jwks.cooldown', 1) * 1000,
      maxAgeMs: seconds(options.jwks?.maxAge ?? 300, 'jwks.maxAge', 1) * 1000,
      timeoutMs: seconds(options.jwks?.timeout ?? 5, 'jwks.timeout', 0.1) * 1000,
    },
  };
}

function httpUrl(value: unknown): URL {
  let url: URL | undefined;
  try {
    url = new URL(String(value));
  } catch {
    // reported below
  }
  if (typeof value !== 'string' || !url || (url.protocol !== 'https:' && url.protocol !== 'http:')) fail('jwksUrl', 'must be an http(s) URL');
  return url!;
}

function staticKeys(keys: ReadonlyArray<JsonWebKey | string>): PublicKey[] {
  if (!Array.isArray(keys) || keys.length === 0) fail('publicKeys', 'must be a non-empty array');
  const imported = keys.map((key, index) => {
    try {
      return importPublicKey(key);
    } catch (error) {
      if (error instanceof KeyImportError) return fail(`publicKeys[${index}]`, `is refused: ${error.message}`);
      throw error;
    }
  });
  if (new Set(imported.map((key) => key.kid)).size !== imported.length) fail('publicKeys', 'has two keys with one kid');
  return imported;
}

function revocation(value: NonNullable<VerifyOptions['revocation']>): ParsedOptions['revocation'] {
  const { databaseUrl, database, accessTokenTtl = '15m' } = value;
  if ((databaseUrl === undefined) === (database === undefined)) fail('revocation', 'needs exactly one of databaseUrl and database');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(String(databaseUrl))) fail('revocation.databaseUrl', 'must be a postgres:// URL');
  if (databaseUrl !== undefined) {
    try {
      new URL(databaseUrl);
    } catch {
      fail('revocation.databaseUrl', 'must be a postgres:// URL');
    }
  }
  const ttl = typeof accessTokenTtl === 'number' ? accessTokenTtl : parseDuration(String(accessTokenTtl));
  if (ttl === undefined || !Number.isSafeInteger(ttl) || ttl < 1) fail('revocation.accessTokenTtl', 'must be whole seconds (or 15m, 1h…), at least 1');
  return { databaseUrl, database, accessTokenTtl: ttl! };
}

function clock(value: Clock | undefined): Clock {
  if (value === undefined) return systemClock;
  if (typeof value?.now !== 'function') fail('clock', 'must have a now() returning epoch ms');
  return value;
}

function nonEmpty(value: unknown, option: string): string {
  if (typeof value !== 'string' || value === '') fail(option, 'must be a non-empty string');
  return value as string;
}

function seconds(value: unknown, option: string, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) fail(option, `must be a number of seconds, at least ${min}`);
  return value as number;
}
