import { resolve } from 'node:path';
import { systemClock, type Clock } from './clock.js';
import { loadOrCreateDevKeys } from './dev-keys.js';
import { parseDuration } from './duration.js';

export type { Clock } from './clock.js';

export type DatabaseConfig = { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir: string };

export interface PasswordHashingConfig {
  /** argon2id memory in KiB. */
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export interface Config {
  host: string;
  port: number;
  database: DatabaseConfig;
  jwt: {
    issuer: string;
    audience: string;
    /** First key signs; every key verifies. */
    accessSecrets: string[];
    refreshSecrets: string[];
    /** Seconds. */
    accessTtl: number;
    refreshTtl: number;
  };
  /** Seconds a rotated refresh token is still honoured (two tabs racing). */
  refreshReuseGrace: number;
  rateLimit: boolean;
  /** Shared store for rate limits across instances; memory when absent. */
  redisUrl?: string;
  /** Every Redis key starts with this, so deployments (or test runs) sharing a Redis never meet. */
  redisKeyPrefix: string;
  corsOrigins: string[];
  cookieSecure: boolean;
  logLevel: string;
  passwordHashing: PasswordHashingConfig;
  clock: Clock;
}

/** OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane. */
export const OWASP_ARGON2ID: PasswordHashingConfig = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

/** A bad environment value; the message is one line that names the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

export interface LoadedConfig {
  config: Config;
  /** Lines the server logs once at start (never secrets). */
  warnings: string[];
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const MIN_SECRET_BYTES = 32;

/** Parses and validates the environment once; throws ConfigError on the first bad value. */
export function loadConfig(env: NodeJS.ProcessEnv): LoadedConfig {
  const warnings: string[] = [];
  const read = (name: string, fallback: string): string => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? fallback : value.trim();
  };
  const production = read('NODE_ENV', '') === 'production';
  const dataDir = resolve(read('DATA_DIR', './data'));

  const accessTtl = duration(read('ACCESS_TOKEN_TTL', '15m'), 'ACCESS_TOKEN_TTL', 1);
  const refreshTtl = duration(read('REFRESH_TOKEN_TTL', '30d'), 'REFRESH_TOKEN_TTL', 1);
  if (accessTtl > refreshTtl) {
    throw new ConfigError('ACCESS_TOKEN_TTL', 'must not be longer than REFRESH_TOKEN_TTL');
  }

  const rest = {
    host: read('HOST', '127.0.0.1'),
    port: port(read('PORT', '3000')),
    database: database(env.DATABASE_URL?.trim(), dataDir),
    refreshReuseGrace: duration(read('REFRESH_REUSE_GRACE', '10s'), 'REFRESH_REUSE_GRACE', 0),
    rateLimit: onOff(read('RATE_LIMIT', 'on'), 'RATE_LIMIT', ['on', 'off']) === 'on',
    redisUrl: redisUrl(env.REDIS_URL?.trim()),
    redisKeyPrefix: 'versioned-auth:',
    corsOrigins: origins(read('CORS_ORIGINS', '')),
    cookieSecure: onOff(read('COOKIE_SECURE', 'true'), 'COOKIE_SECURE', ['true', 'false']) === 'true',
    logLevel: onOff(read('LOG_LEVEL', 'info'), 'LOG_LEVEL', LOG_LEVELS),
    passwordHashing: OWASP_ARGON2ID,
    clock: systemClock,
  };

  // Keys last, so a bad value elsewhere never leaves a development key file behind.
  let accessSecrets = secrets(env.JWT_ACCESS_SECRET, 'JWT_ACCESS_SECRET');
  let refreshSecrets = secrets(env.JWT_REFRESH_SECRET, 'JWT_REFRESH_SECRET');
  if (!accessSecrets || !refreshSecrets) {
    const [first, second] = [!accessSecrets && 'JWT_ACCESS_SECRET', !refreshSecrets && 'JWT_REFRESH_SECRET'].filter(
      (name): name is string => Boolean(name),
    );
    if (production) {
      throw new ConfigError(first!, `is required when NODE_ENV=production${second ? ` (and so is ${second})` : ''}`);
    }
    const dev = loadOrCreateDevKeys(dataDir);
    accessSecrets ??= secrets(dev.access, 'JWT_ACCESS_SECRET')!;
    refreshSecrets ??= secrets(dev.refresh, 'JWT_REFRESH_SECRET')!;
    warnings.push(
      `${[first, second].filter(Boolean).join(' and ')} not set: signing with development keys kept in ${dataDir}/dev-keys.json (never in production)`,
    );
  }
  if (accessSecrets.some((secret) => refreshSecrets.includes(secret))) {
    throw new ConfigError('JWT_REFRESH_SECRET', 'must differ from every JWT_ACCESS_SECRET key');
  }

  return {
    warnings,
    config: {
      ...rest,
      jwt: {
        issuer: read('JWT_ISSUER', 'versioned-auth'),
        audience: read('JWT_AUDIENCE', 'versioned-auth'),
        accessSecrets,
        refreshSecrets,
        accessTtl,
        refreshTtl,
      },
    },
  };
}

function duration(value: string, name: string, min: number): number {
  const seconds = parseDuration(value);
  if (seconds === undefined) {
    throw new ConfigError(name, `${quote(value)} is not a duration (seconds, or a number with s, m, h or d)`);
  }
  if (seconds < min) throw new ConfigError(name, `must be at least ${min}s`);
  return seconds;
}

function port(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed < 1 || parsed > 65535) {
    throw new ConfigError('PORT', `${quote(value)} is not a port number (1-65535)`);
  }
  return parsed;
}

function onOff(value: string, name: string, allowed: string[]): string {
  const normalised = value.toLowerCase();
  if (!allowed.includes(normalised)) throw new ConfigError(name, `${quote(value)} must be one of ${allowed.join(', ')}`);
  return normalised;
}

/** A comma-separated key ring; each key at least 32 bytes. The value itself never appears in an error. */
function secrets(value: string | undefined, name: string): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const keys = value.split(',').map((key) => key.trim());
  keys.forEach((key, index) => {
    if (Buffer.byteLength(key, 'utf8') < MIN_SECRET_BYTES) {
      throw new ConfigError(name, `key ${index + 1} is shorter than ${MIN_SECRET_BYTES} bytes`);
    }
  });
  if (new Set(keys).size !== keys.length) throw new ConfigError(name, 'lists the same key twice');
  return keys;
}

function database(url: string | undefined, dataDir: string): DatabaseConfig {
  if (!url) return { kind: 'pglite', dataDir: resolve(dataDir, 'pglite') };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('DATABASE_URL', 'is not a URL (expected postgres://user@host:port/database)');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', `scheme ${quote(parsed.protocol)} is not postgres: or postgresql:`);
  }
  return { kind: 'postgres', url };
}

function redisUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')) {
    throw new ConfigError('REDIS_URL', 'is not a redis:// or rediss:// URL');
  }
  return url;
}

function origins(value: string): string[] {
  if (value === '') return [];
  return value.split(',').map((origin) => {
    const trimmed = origin.trim();
    let parsed: URL | undefined;
    try {
      parsed = new URL(trimmed);
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.origin !== trimmed) {
      throw new ConfigError('CORS_ORIGINS', `${quote(trimmed)} is not an origin like https://app.example.com`);
    }
    return trimmed;
  });
}

/** Quotes a value for an error message, escaping line breaks so the message stays one line. */
const quote = (value: string) => JSON.stringify(value);
