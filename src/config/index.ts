import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { ACCESS_ALGORITHMS, AccessKeyProblem, accessPrivateKey, readAccessPrivateKeys, type AccessAlgorithm } from './access-keys.js';
import { systemClock, type Clock } from './clock.js';
import { devAccessKeyPath, devKeysPath, loadOrCreateDevAccessKey, loadOrCreateDevKeys } from './dev-keys.js';
import { parseDuration } from './duration.js';
import { workerCount } from './workers.js';

export type { Clock } from './clock.js';
export type { AccessAlgorithm } from './access-keys.js';

/**
 * `thread`: where PGlite runs its queries, on the event loop (`main`) or in a worker thread
 * of its own (`worker`, src/db/pglite-thread.ts); PGLITE_THREAD, unset means src/db/client.ts's default.
 */
export type DatabaseConfig = { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir: string; thread?: PgliteThreadMode };
export const PGLITE_THREAD_MODES = ['main', 'worker'] as const;
export type PgliteThreadMode = (typeof PGLITE_THREAD_MODES)[number];

export type AccessTokenRevocation = 'instant' | 'strict' | 'off';

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
  /** WORKERS: server processes sharing the port (src/cluster.ts); 1 runs no cluster. */
  workers: number;
  jwt: {
    issuer: string;
    audience: string;
    /** JWT_ACCESS_ALGORITHM: HS256 signs with `accessSecrets`, EdDSA and ES256 with `accessPrivateKeys`. */
    accessAlgorithm: AccessAlgorithm;
    /** First key signs; every key verifies. Empty when the variable is unset (see useDevelopmentKeys), and always with EdDSA/ES256. */
    accessSecrets: string[];
    /**
     * EdDSA/ES256: the private keys of JWT_ACCESS_PRIVATE_KEYS as PKCS#8 PEM text, first signs,
     * every one verifies and is published. Empty with HS256, or when the variable is unset.
     */
    accessPrivateKeys: string[];
    refreshSecrets: string[];
    /** Seconds. */
    accessTtl: number;
    refreshTtl: number;
  };
  /** Seconds a rotated refresh token is still honoured (two tabs racing). */
  refreshReuseGrace: number;
  /**
   * ACCESS_TOKEN_REVOCATION: `instant` refuses revoked access tokens within about a second on
   * every instance (the revocation feed), degrading to signature-only while the feed is down;
   * `strict` answers 503 instead while it is down; `off` checks signatures only.
   */
  accessTokenRevocation: AccessTokenRevocation;
  rateLimit: boolean;
  /** Shared store for rate limits across instances; memory when absent. */
  redisUrl?: string;
  /** Every Redis key starts with this, so deployments (or test runs) sharing a Redis never meet. */
  redisKeyPrefix: string;
  corsOrigins: string[];
  cookieSecure: boolean;
  /**
   * Fastify's `trustProxy`: `false`, the proxies (addresses, CIDRs, `loopback`,
   * `linklocal`, `uniquelocal`) whose `X-Forwarded-For` gives `request.ip`, or a hop count
   * (that many proxies in front, whoever they are).
   */
  trustProxy: false | string[] | number;
  /** The HTTP server's limits (docs/deploy.md); timeouts in seconds. */
  httpServer: { requestTimeout: number; keepAliveTimeout: number; maxConnections: number };
  logLevel: string;
  passwordHashing: PasswordHashingConfig;
  clock: Clock;
  /** The resolved DATA_DIR: the embedded database and the development keys live here. */
  dataDir: string;
  /** NODE_ENV=production: both key rings must come from the environment. */
  production: boolean;
  /** METRICS_PORT: Prometheus `GET /metrics` on a listener of its own at HOST; off when unset. */
  metricsPort?: number;
  /** AUDIT_RETENTION, seconds: `auth_events` rows older than this are pruned in the background. */
  auditRetention: number;
  /** DOCS: Swagger UI at `GET /docs` (`on` by default outside production, `off` in it); `/openapi.json` is always served. */
  docs: boolean;
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

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const MIN_SECRET_BYTES = 32;
/** With NODE_ENV=production, a signing key estimated below this is refused. */
const MIN_SECRET_BITS = 128;
/**
 * A key containing one of these (case-insensitively, ignoring everything but letters and
 * digits) is a placeholder someone forgot to replace. Each has a letter outside a-f, so no
 * hex key can contain one, and a random 32-byte base64 key does so about once in ten million.
 */
const PLACEHOLDER_WORDS = ['changeme', 'changeit', 'replaceme', 'secret', 'password', 'passwd', 'placeholder', 'example', 'default', 'insecure', 'qwerty', 'letmein'];
/** Over this, REFRESH_REUSE_GRACE is a replay window rather than a race window (a production warning). */
const MAX_QUIET_REUSE_GRACE = 60;

/**
 * Parses and validates the environment once, writing nothing; throws ConfigError on the first bad
 * value. An unset JWT secret leaves its ring empty (refused when NODE_ENV=production).
 */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  /** The trimmed value of `name`, or `fallback` when it is unset or blank. */
  const envOrDefault = (name: string, fallback: string): string => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? fallback : value.trim();
  };
  const production = envOrDefault('NODE_ENV', '') === 'production';
  const dataDir = resolve(envOrDefault('DATA_DIR', './data'));

  const accessAlgorithm = algorithmOf(envOrDefault('JWT_ACCESS_ALGORITHM', 'HS256'));
  const accessTtl = durationSeconds(envOrDefault('ACCESS_TOKEN_TTL', '15m'), 'ACCESS_TOKEN_TTL', 1);
  const refreshTtl = durationSeconds(envOrDefault('REFRESH_TOKEN_TTL', '30d'), 'REFRESH_TOKEN_TTL', 1);
  if (accessTtl > refreshTtl) {
    throw new ConfigError('ACCESS_TOKEN_TTL', 'must not be longer than REFRESH_TOKEN_TTL');
  }

  // Fields are validated in the order written here; the key rings come last.
  const config: Config = {
    host: envOrDefault('HOST', '127.0.0.1'),
    port: portNumber(envOrDefault('PORT', '3000')),
    database: databaseConfig(env.DATABASE_URL?.trim(), dataDir, env.PGLITE_THREAD?.trim() || undefined),
    workers: workerCount(envOrDefault('WORKERS', '1'), Boolean(env.DATABASE_URL?.trim())),
    refreshReuseGrace: durationSeconds(envOrDefault('REFRESH_REUSE_GRACE', '10s'), 'REFRESH_REUSE_GRACE', 0),
    accessTokenRevocation: oneOf(envOrDefault('ACCESS_TOKEN_REVOCATION', 'instant'), 'ACCESS_TOKEN_REVOCATION', ['instant', 'strict', 'off']) as AccessTokenRevocation,
    rateLimit: oneOf(envOrDefault('RATE_LIMIT', 'on'), 'RATE_LIMIT', ['on', 'off']) === 'on',
    redisUrl: redisUrl(env.REDIS_URL?.trim()),
    redisKeyPrefix: 'versioned-auth:',
    corsOrigins: corsOrigins(envOrDefault('CORS_ORIGINS', '')),
    cookieSecure: oneOf(envOrDefault('COOKIE_SECURE', 'true'), 'COOKIE_SECURE', ['true', 'false']) === 'true',
    trustProxy: trustedProxies(envOrDefault('TRUST_PROXY', 'false')),
    httpServer: {
      requestTimeout: serverTimeout(envOrDefault('REQUEST_TIMEOUT', '10s'), 'REQUEST_TIMEOUT'),
      keepAliveTimeout: serverTimeout(envOrDefault('KEEP_ALIVE_TIMEOUT', '72s'), 'KEEP_ALIVE_TIMEOUT'),
      maxConnections: connectionCap(envOrDefault('MAX_CONNECTIONS', '1000')),
    },
    logLevel: oneOf(envOrDefault('LOG_LEVEL', 'info'), 'LOG_LEVEL', LOG_LEVELS),
    passwordHashing: OWASP_ARGON2ID,
    clock: systemClock,
    dataDir,
    production,
    metricsPort: env.METRICS_PORT?.trim() ? portNumber(env.METRICS_PORT.trim(), 'METRICS_PORT') : undefined,
    auditRetention: durationSeconds(envOrDefault('AUDIT_RETENTION', '90d'), 'AUDIT_RETENTION', 1),
    docs: oneOf(envOrDefault('DOCS', production ? 'off' : 'on'), 'DOCS', ['on', 'off']) === 'on',
    jwt: {
      issuer: envOrDefault('JWT_ISSUER', 'versioned-auth'),
      audience: envOrDefault('JWT_AUDIENCE', 'versioned-auth'),
      accessAlgorithm,
      accessSecrets: accessSecrets(env.JWT_ACCESS_SECRET, accessAlgorithm),
      accessPrivateKeys: accessPrivateKeys(env.JWT_ACCESS_PRIVATE_KEYS, accessAlgorithm),
      refreshSecrets: keyRing(env.JWT_REFRESH_SECRET, 'JWT_REFRESH_SECRET') ?? [],
      accessTtl,
      refreshTtl,
    },
  };
  if (config.metricsPort === config.port) {
    throw new ConfigError('METRICS_PORT', `must differ from PORT (${config.port}): metrics are never served on the public port`);
  }
  if (production) refuseMissingSecretsInProduction(config);
  if (production) refuseWeakSecretsInProduction(config);
  requireDistinctRings(config.jwt.accessSecrets, config.jwt.refreshSecrets);
  return config;
}

/**
 * Fills each empty key ring from `DATA_DIR`, creating the files on first use (`dev-keys.json`
 * for the HMAC keys, `dev-access-key-<alg>.pem` for an EdDSA or ES256 access key), and
 * returns the new config with one warning line (never key material); a config whose keys are
 * all set comes back as is, with no warning. Throws ConfigError when `config.production`.
 */
export function useDevelopmentKeys(config: Config): { config: Config; warning?: string } {
  const missing = missingSecrets(config);
  if (missing.length === 0) return { config };
  refuseMissingSecretsInProduction(config);

  const { jwt, dataDir } = config;
  const files: string[] = [];
  let created = false;
  let { accessSecrets, refreshSecrets, accessPrivateKeys } = jwt;
  if (missing.includes('JWT_ACCESS_SECRET') || missing.includes('JWT_REFRESH_SECRET')) {
    const stored = loadOrCreateDevKeys(dataDir);
    files.push(devKeysPath(dataDir));
    created ||= stored.created;
    if (missing.includes('JWT_ACCESS_SECRET')) accessSecrets = keyRing(stored.keys.access, 'JWT_ACCESS_SECRET')!;
    if (missing.includes('JWT_REFRESH_SECRET')) refreshSecrets = keyRing(stored.keys.refresh, 'JWT_REFRESH_SECRET')!;
  }
  if (missing.includes('JWT_ACCESS_PRIVATE_KEYS') && jwt.accessAlgorithm !== 'HS256') {
    const file = devAccessKeyPath(dataDir, jwt.accessAlgorithm);
    const stored = loadOrCreateDevAccessKey(dataDir, jwt.accessAlgorithm);
    files.push(file);
    created ||= stored.created;
    try {
      accessPrivateKeys = [accessPrivateKey(stored.keys, jwt.accessAlgorithm).pem];
    } catch (error) {
      if (!(error instanceof AccessKeyProblem)) throw error;
      throw new ConfigError('DATA_DIR', `${file} ${error.message}: delete it to generate a new development key`);
    }
  }
  requireDistinctRings(accessSecrets, refreshSecrets);

  const unset = `${missing.join(' and ')} not set`;
  const where = files.join(' and ');
  const warning = created
    ? `${unset}: generated development keys into ${where} (never in production)`
    : `${unset}: signing with the development keys kept in ${where} (never in production)`;
  return { config: { ...config, jwt: { ...jwt, accessSecrets, refreshSecrets, accessPrivateKeys } }, warning };
}

/** Throws ConfigError naming the first empty key ring; the plugin calls it before it signs anything. */
export function requireSigningKeys(config: Config): void {
  const [first] = missingSecrets(config);
  if (first) {
    throw new ConfigError(first, 'is not set: set it, or call useDevelopmentKeys(config) before registering the plugin');
  }
}

/** The variables whose key ring is empty, access first. */
function missingSecrets({ jwt }: Config): string[] {
  const hmac = jwt.accessAlgorithm === 'HS256';
  return [
    ...(hmac && jwt.accessSecrets.length === 0 ? ['JWT_ACCESS_SECRET'] : []),
    ...(!hmac && jwt.accessPrivateKeys.length === 0 ? ['JWT_ACCESS_PRIVATE_KEYS'] : []),
    ...(jwt.refreshSecrets.length === 0 ? ['JWT_REFRESH_SECRET'] : []),
  ];
}

function refuseMissingSecretsInProduction(config: Config): void {
  const [first, second] = missingSecrets(config);
  if (config.production && first) {
    throw new ConfigError(first, `is required when NODE_ENV=production${second ? ` (and so is ${second})` : ''}`);
  }
}

/**
 * Refuses a signing key that is a placeholder or whose estimated entropy (estimatedBits) is
 * under 128 bits. The error never shows the key.
 */
function refuseWeakSecretsInProduction({ jwt }: Config): void {
  const rings: [string, string[]][] = [
    ['JWT_ACCESS_SECRET', jwt.accessSecrets],
    ['JWT_REFRESH_SECRET', jwt.refreshSecrets],
  ];
  const advice = 'generate one with openssl rand -hex 32';
  for (const [name, keys] of rings) {
    keys.forEach((key, index) => {
      const letters = key.toLowerCase().replace(/[^a-z0-9]/g, '');
      if (PLACEHOLDER_WORDS.some((word) => letters.includes(word))) {
        throw new ConfigError(name, `key ${index + 1} looks like a placeholder (it contains a word such as secret, password or changeme), refused when NODE_ENV=production: ${advice}`);
      }
      if (estimatedBits(key) < MIN_SECRET_BITS) {
        throw new ConfigError(name, `key ${index + 1} is too easy to guess (estimated under ${MIN_SECRET_BITS} bits), refused when NODE_ENV=production: ${advice}`);
      }
    });
  }
}

/**
 * Length × log2(distinct characters), counting a key that repeats itself (`abcabcabc…`) by
 * one repetition: generous to text, close for random keys (`openssl rand -hex 32` about 256).
 */
function estimatedBits(key: string): number {
  const characters = Array.from(key);
  const repeats = (p: number) => p > 0 && p <= characters.length / 2 && characters.every((c, i) => i < p || c === characters[i - p]);
  const period = characters.findIndex((_, p) => repeats(p));
  const length = period === -1 ? characters.length : period;
  return length * Math.log2(new Set(characters).size);
}

/**
 * With NODE_ENV=production, one line for each setting that is allowed but unwise there;
 * none outside production. The server logs them at warn.
 */
export function productionWarnings(
  config: Pick<Config, 'production' | 'cookieSecure' | 'corsOrigins' | 'refreshReuseGrace' | 'database' | 'trustProxy'>,
): string[] {
  if (!config.production) return [];
  const warnings: string[] = [];
  if (!config.cookieSecure) {
    warnings.push('COOKIE_SECURE=false: the refresh-token cookie is also sent over plain HTTP, readable on the way; serve HTTPS and set COOKIE_SECURE=true');
  }
  const plain = config.corsOrigins.filter((origin) => origin.startsWith('http://'));
  if (plain.length > 0) {
    warnings.push(`CORS_ORIGINS: ${plain.join(', ')} ${plain.length === 1 ? 'is' : 'are'} plain HTTP: tokens handed to a page there travel unencrypted; list https:// origins`);
  }
  if (config.refreshReuseGrace > MAX_QUIET_REUSE_GRACE) {
    warnings.push(`REFRESH_REUSE_GRACE=${config.refreshReuseGrace}s: a stolen refresh token replayed that long after its rotation is honoured instead of revoking the session; ${MAX_QUIET_REUSE_GRACE}s or less covers racing tabs`);
  }
  if (typeof config.trustProxy === 'number') {
    warnings.push(`TRUST_PROXY=${config.trustProxy}: X-Forwarded-For is believed from whoever connects; make sure only your proxies can reach this server, or list their addresses instead`);
  }
  if (config.database.kind === 'pglite') {
    warnings.push(`DATABASE_URL is not set: running on the embedded database in ${config.database.dataDir} (one process, no replicas); set DATABASE_URL to a PostgreSQL server`);
  }
  return warnings;
}

/** A key that both signs access tokens and verifies refresh tokens would let one pass as the other. */
function requireDistinctRings(accessSecrets: string[], refreshSecrets: string[]): void {
  if (accessSecrets.some((secret) => refreshSecrets.includes(secret))) {
    throw new ConfigError('JWT_REFRESH_SECRET', 'must differ from every JWT_ACCESS_SECRET key');
  }
}

function durationSeconds(value: string, name: string, min: number): number {
  const seconds = parseDuration(value);
  if (seconds === undefined) {
    throw new ConfigError(name, `${quote(value)} is not a duration (seconds, or a number with s, m, h or d)`);
  }
  if (seconds < min) throw new ConfigError(name, `must be at least ${min}s`);
  return seconds;
}

function portNumber(value: string, name = 'PORT'): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed < 1 || parsed > 65535) {
    throw new ConfigError(name, `${quote(value)} is not a port number (1-65535)`);
  }
  return parsed;
}

/** `value` lower-cased, when it is one of `allowed`. */
function oneOf(value: string, name: string, allowed: string[]): string {
  const normalised = value.toLowerCase();
  if (!allowed.includes(normalised)) throw new ConfigError(name, `${quote(value)} must be one of ${allowed.join(', ')}`);
  return normalised;
}

function algorithmOf(value: string): AccessAlgorithm {
  const algorithm = ACCESS_ALGORITHMS.find((name) => name.toLowerCase() === value.toLowerCase());
  if (!algorithm) throw new ConfigError('JWT_ACCESS_ALGORITHM', `${quote(value)} must be one of ${ACCESS_ALGORITHMS.join(', ')}`);
  return algorithm;
}

/**
 * JWT_ACCESS_SECRET, with HS256 only. Refused alongside EdDSA/ES256 rather than ignored: it
 * would sign nothing and verify nothing, and an operator who left it set could believe
 * HS256 access tokens were still accepted (they are not: each namespace is pinned to the
 * configured algorithm).
 */
function accessSecrets(value: string | undefined, algorithm: AccessAlgorithm): string[] {
  const ring = keyRing(value, 'JWT_ACCESS_SECRET') ?? [];
  if (algorithm !== 'HS256' && ring.length > 0) {
    throw new ConfigError('JWT_ACCESS_SECRET', `signs HS256 access tokens only; with JWT_ACCESS_ALGORITHM=${algorithm} they are signed with JWT_ACCESS_PRIVATE_KEYS: unset JWT_ACCESS_SECRET`);
  }
  return ring;
}

/** JWT_ACCESS_PRIVATE_KEYS, read and checked (EdDSA/ES256 only); the key files' contents never appear in an error. */
function accessPrivateKeys(value: string | undefined, algorithm: AccessAlgorithm): string[] {
  if (value === undefined || value.trim() === '') return [];
  if (algorithm === 'HS256') {
    throw new ConfigError('JWT_ACCESS_PRIVATE_KEYS', 'is for JWT_ACCESS_ALGORITHM=EdDSA or ES256, and JWT_ACCESS_ALGORITHM is HS256: set it, or unset JWT_ACCESS_PRIVATE_KEYS');
  }
  try {
    return readAccessPrivateKeys(value, algorithm);
  } catch (error) {
    if (error instanceof AccessKeyProblem) throw new ConfigError('JWT_ACCESS_PRIVATE_KEYS', error.message);
    throw error;
  }
}

/** A comma-separated key ring; each key at least 32 bytes. The value itself never appears in an error. */
function keyRing(value: string | undefined, name: string): string[] | undefined {
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

function databaseConfig(url: string | undefined, dataDir: string, thread: string | undefined): DatabaseConfig {
  if (!url) {
    const database: DatabaseConfig = { kind: 'pglite', dataDir: resolve(dataDir, 'pglite') };
    return thread ? { ...database, thread: oneOf(thread, 'PGLITE_THREAD', [...PGLITE_THREAD_MODES]) as PgliteThreadMode } : database;
  }
  const parsed = parseUrl(url);
  if (!parsed) throw new ConfigError('DATABASE_URL', 'is not a URL (expected postgres://user@host:port/database)');
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', `scheme ${quote(parsed.protocol)} is not postgres: or postgresql:`);
  }
  return { kind: 'postgres', url };
}

function redisUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const parsed = parseUrl(url);
  if (!parsed || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')) {
    throw new ConfigError('REDIS_URL', 'is not a redis:// or rediss:// URL');
  }
  return url;
}

function corsOrigins(value: string): string[] {
  if (value === '') return [];
  return value.split(',').map((origin) => {
    const trimmed = origin.trim();
    if (parseUrl(trimmed)?.origin !== trimmed) {
      throw new ConfigError('CORS_ORIGINS', `${quote(trimmed)} is not an origin like https://app.example.com`);
    }
    return trimmed;
  });
}

/** proxy-addr's named ranges, accepted in TRUST_PROXY next to addresses and CIDRs. */
const NAMED_PROXY_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * `false`, a list of proxies, or a hop count. `true` is refused: it would believe
 * `X-Forwarded-For` from anyone. A hop count believes that many hops whoever they are, so
 * the server must be reachable only through its proxies (a production warning says so).
 */
function trustedProxies(value: string): false | string[] | number {
  const lower = value.toLowerCase();
  if (lower === 'false') return false;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops < 1 || hops > 10) throw new ConfigError('TRUST_PROXY', 'a hop count must be 1 to 10 (or use false)');
    return hops;
  }
  if (lower === 'true') {
    throw new ConfigError(
      'TRUST_PROXY',
      `${quote(value)} would believe X-Forwarded-For from any client; list your proxies' addresses or CIDRs (e.g. 10.0.0.0/8, or uniquelocal), or give their number`,
    );
  }
  return value.split(',').map((entry) => {
    const trimmed = entry.trim();
    if (!isProxyRange(trimmed)) {
      throw new ConfigError('TRUST_PROXY', `${quote(trimmed)} is not an IP address, a CIDR like 10.0.0.0/8, or one of ${NAMED_PROXY_RANGES.join(', ')}`);
    }
    return trimmed;
  });
}

function isProxyRange(entry: string): boolean {
  if (NAMED_PROXY_RANGES.includes(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || address.includes('%') || rest.length > 0) return false;
  if (prefix === undefined) return true;
  // A /0 would trust every address, as `true` does (and proxy-addr refuses it).
  return /^\d{1,3}$/.test(prefix) && Number(prefix) >= 1 && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** A server timeout in seconds: at least 1 s, at most an hour (Node's timers overflow past 24 days). */
function serverTimeout(value: string, name: string): number {
  const seconds = durationSeconds(value, name, 1);
  if (seconds > 3600) throw new ConfigError(name, 'must be at most 1h');
  return seconds;
}

function connectionCap(value: string): number {
  if (!/^\d{1,7}$/.test(value) || Number(value) < 1) {
    throw new ConfigError('MAX_CONNECTIONS', `${quote(value)} is not a number of connections (1 or more)`);
  }
  return Number(value);
}

/** The URL `text` spells, or undefined when it is not one. */
function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** Quotes a value for an error message, escaping line breaks so the message stays one line. */
const quote = (value: string) => JSON.stringify(value);
