import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, isAbsolute } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, productionWarnings, requireSigningKeys, useDevelopmentKeys, type Config } from '../../src/config/index.js';
import { ACCESS_SECRET as HELPER_ACCESS, REFRESH_SECRET as HELPER_REFRESH } from '../helper.js';

// Placeholders (they contain "secret"): fine for development, refused with NODE_ENV=production.
const ACCESS = 'access-secret-for-config-tests-0123456789';
const REFRESH = 'refresh-secret-for-config-tests-0123456789';
// What production should use: `openssl rand -hex 32`, and 32 random bytes in base64.
const STRONG_ACCESS = randomBytes(32).toString('hex');
const STRONG_REFRESH = randomBytes(32).toString('base64');

const dataDirs: string[] = [];

/** A fresh DATA_DIR under the OS temp dir; never ./data. */
function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'versioned-auth-config-'));
  dataDirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dataDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** An environment that loads cleanly: temp DATA_DIR and two explicit, distinct secrets. */
function validEnv(overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { DATA_DIR: tempDataDir(), JWT_ACCESS_SECRET: ACCESS, JWT_REFRESH_SECRET: REFRESH, ...overrides };
}

/** Runs `run` and returns the ConfigError it must throw. */
function thrownConfigError(run: () => unknown, what: string): ConfigError {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `${what} should have thrown`).toBeInstanceOf(ConfigError);
  return thrown as ConfigError;
}

/** Runs loadConfig and returns the ConfigError it must throw. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  return thrownConfigError(() => loadConfig(env), 'loadConfig');
}

/** useDevelopmentKeys leaves a config whose rings are both set alone: same object, no warning. */
function expectNoDevelopmentKeysNeeded(config: Config): void {
  const result = useDevelopmentKeys(config);
  expect(result.config).toBe(config);
  expect(result.warning).toBeUndefined();
}

/** loadConfig, then the development keys step, as a development server starts. */
function loadWithDevelopmentKeys(env: NodeJS.ProcessEnv) {
  return useDevelopmentKeys(loadConfig(env));
}

/** The contract for every refusal: a ConfigError for `variable`, one line that names it. */
function expectRefusal(env: NodeJS.ProcessEnv, variable: string): ConfigError {
  const error = configError(env);
  expect(error.variable).toBe(variable);
  expect(error.message).toContain(variable);
  expect(error.message).not.toMatch(/[\r\n]/);
  return error;
}

describe('loadConfig', () => {
  describe('defaults', () => {
    it('applies the documented defaults when only the secrets are set', () => {
      const dataDir = tempDataDir();
      const config = loadConfig({ DATA_DIR: dataDir, JWT_ACCESS_SECRET: ACCESS, JWT_REFRESH_SECRET: REFRESH });

      expectNoDevelopmentKeysNeeded(config);
      expect(config.dataDir).toBe(dataDir);
      expect(config.production).toBe(false);
      expect(config.port).toBe(3000);
      expect(config.host).toBe('127.0.0.1');
      expect(config.jwt.issuer).toBe('versioned-auth');
      expect(config.jwt.audience).toBe('versioned-auth');
      expect(config.jwt.accessSecrets).toEqual([ACCESS]);
      expect(config.jwt.refreshSecrets).toEqual([REFRESH]);
      expect(config.jwt.accessTtl).toBe(900);
      expect(config.jwt.refreshTtl).toBe(2_592_000);
      expect(config.refreshReuseGrace).toBe(10);
      expect(config.rateLimit).toBe(true);
      expect(config.cookieSecure).toBe(true);
      expect(config.corsOrigins).toEqual([]);
      expect(config.logLevel).toBe('info');
    });

    it('uses an embedded PGlite database inside DATA_DIR when DATABASE_URL is unset', () => {
      const env = validEnv();
      const { database } = loadConfig(env);

      expect(database.kind).toBe('pglite');
      if (database.kind !== 'pglite') return;
      const inside = relative(env.DATA_DIR!, database.dataDir);
      expect(inside).not.toBe('');
      expect(inside.startsWith('..')).toBe(false);
      expect(isAbsolute(inside)).toBe(false);
    });

    it.each(['', '   '])('treats a blank DATABASE_URL (%j) as unset', (value) => {
      expect(loadConfig(validEnv({ DATABASE_URL: value })).database.kind).toBe('pglite');
    });
  });

  describe('durations', () => {
    type Read = (env: NodeJS.ProcessEnv) => number;
    const fields: [variable: string, read: Read, fallback: number][] = [
      ['ACCESS_TOKEN_TTL', (env) => loadConfig(env).jwt.accessTtl, 900],
      ['REFRESH_TOKEN_TTL', (env) => loadConfig(env).jwt.refreshTtl, 2_592_000],
      ['REFRESH_REUSE_GRACE', (env) => loadConfig(env).refreshReuseGrace, 10],
    ];

    describe.each(fields)('%s', (variable, read, fallback) => {
      it.each([
        ['900', 900],
        ['900s', 900],
        ['15m', 900],
        ['12h', 43_200],
        ['30d', 2_592_000],
        [' 15m ', 900],
      ])('reads %j as %i seconds', (value, seconds) => {
        expect(read(validEnv({ [variable]: value }))).toBe(seconds);
      });

      it.each(['', '   '])('falls back to the default when the value is blank (%j)', (value) => {
        expect(read(validEnv({ [variable]: value }))).toBe(fallback);
      });

      it.each(['15x', '-5', '1.5m', '15 m', 'm', '15mm', '1e3', '0x10', 'fifteen'])(
        'refuses %j, naming the variable in one line',
        (value) => {
          const error = expectRefusal(validEnv({ [variable]: value }), variable);
          expect(error.message).toContain(value);
        },
      );
    });

    it.each(['ACCESS_TOKEN_TTL', 'REFRESH_TOKEN_TTL'])('refuses a zero %s', (variable) => {
      expectRefusal(validEnv({ [variable]: '0' }), variable);
    });

    it('accepts a zero REFRESH_REUSE_GRACE (no grace at all)', () => {
      expect(loadConfig(validEnv({ REFRESH_REUSE_GRACE: '0' })).refreshReuseGrace).toBe(0);
    });

    it('accepts an access token lifetime equal to the refresh token lifetime', () => {
      const { jwt } = loadConfig(validEnv({ ACCESS_TOKEN_TTL: '1h', REFRESH_TOKEN_TTL: '3600' }));
      expect([jwt.accessTtl, jwt.refreshTtl]).toEqual([3600, 3600]);
    });
  });

  describe('bad values', () => {
    const short = 'Tiny-Key-7Qz'; // 12 bytes

    // Each row: [case, variable the error must name, variable set, value].
    it.each([
      ['a non-numeric PORT', 'PORT', 'PORT', 'abc'],
      ['PORT 0', 'PORT', 'PORT', '0'],
      ['a PORT above 65535', 'PORT', 'PORT', '70000'],
      ['a fractional PORT', 'PORT', 'PORT', '3000.5'],
      ['a non-numeric METRICS_PORT', 'METRICS_PORT', 'METRICS_PORT', 'metrics'],
      ['METRICS_PORT 0', 'METRICS_PORT', 'METRICS_PORT', '0'],
      ['METRICS_PORT equal to the default PORT', 'METRICS_PORT', 'METRICS_PORT', '3000'],
      ['AUDIT_RETENTION that is not a duration', 'AUDIT_RETENTION', 'AUDIT_RETENTION', 'forever'],
      ['AUDIT_RETENTION 0', 'AUDIT_RETENTION', 'AUDIT_RETENTION', '0'],
      ['a DATABASE_URL that is not a URL', 'DATABASE_URL', 'DATABASE_URL', 'not a url'],
      ['a non-postgres DATABASE_URL', 'DATABASE_URL', 'DATABASE_URL', 'mysql://x'],
      ['a JWT_ACCESS_SECRET shorter than 32 bytes', 'JWT_ACCESS_SECRET', 'JWT_ACCESS_SECRET', short],
      ['a JWT_REFRESH_SECRET shorter than 32 bytes', 'JWT_REFRESH_SECRET', 'JWT_REFRESH_SECRET', short],
      ['a 31-byte JWT_ACCESS_SECRET', 'JWT_ACCESS_SECRET', 'JWT_ACCESS_SECRET', 'x'.repeat(31)],
      ['a 31-byte multi-byte JWT_ACCESS_SECRET', 'JWT_ACCESS_SECRET', 'JWT_ACCESS_SECRET', 'é'.repeat(15) + 'x'],
      ['a JWT_REFRESH_SECRET equal to JWT_ACCESS_SECRET', 'JWT_REFRESH_SECRET', 'JWT_REFRESH_SECRET', ACCESS],
      ['a JWT_ACCESS_SECRET equal to JWT_REFRESH_SECRET', 'JWT_REFRESH_SECRET', 'JWT_ACCESS_SECRET', REFRESH],
      ['RATE_LIMIT "maybe"', 'RATE_LIMIT', 'RATE_LIMIT', 'maybe'],
      ['ACCESS_TOKEN_REVOCATION "sometimes"', 'ACCESS_TOKEN_REVOCATION', 'ACCESS_TOKEN_REVOCATION', 'sometimes'],
      ['ACCESS_TOKEN_REVOCATION "true"', 'ACCESS_TOKEN_REVOCATION', 'ACCESS_TOKEN_REVOCATION', 'true'],
      ['COOKIE_SECURE "yes"', 'COOKIE_SECURE', 'COOKIE_SECURE', 'yes'],
      ['LOG_LEVEL "loud"', 'LOG_LEVEL', 'LOG_LEVEL', 'loud'],
      ['PGLITE_THREAD "both"', 'PGLITE_THREAD', 'PGLITE_THREAD', 'both'],
      ['a CORS origin with a path', 'CORS_ORIGINS', 'CORS_ORIGINS', 'https://a.example/path'],
      ['a CORS list with one bad entry', 'CORS_ORIGINS', 'CORS_ORIGINS', 'https://a.example,not-an-origin'],
      ['an ACCESS_TOKEN_TTL longer than the default REFRESH_TOKEN_TTL', 'ACCESS_TOKEN_TTL', 'ACCESS_TOKEN_TTL', '31d'],
      ['a REFRESH_TOKEN_TTL shorter than the default ACCESS_TOKEN_TTL', 'ACCESS_TOKEN_TTL', 'REFRESH_TOKEN_TTL', '10m'],
    ])('refuses %s, naming %s', (_name, named, variable, value) => {
      expectRefusal(validEnv({ [variable]: value }), named);
    });

    it.each([
      [undefined, 'instant'],
      ['  ', 'instant'],
      ['instant', 'instant'],
      ['OFF', 'off'],
      ['strict', 'strict'],
    ])('reads ACCESS_TOKEN_REVOCATION %j as %s (instant by default)', (value, expected) => {
      expect(loadConfig(validEnv({ ACCESS_TOKEN_REVOCATION: value })).accessTokenRevocation).toBe(expected);
    });

    it('refuses an ACCESS_TOKEN_TTL longer than an explicit REFRESH_TOKEN_TTL, naming ACCESS_TOKEN_TTL', () => {
      const error = expectRefusal(validEnv({ ACCESS_TOKEN_TTL: '2h', REFRESH_TOKEN_TTL: '1h' }), 'ACCESS_TOKEN_TTL');
      expect(error.message).toContain('REFRESH_TOKEN_TTL');
    });

    it('mentions both secrets when they are equal', () => {
      const error = configError(validEnv({ JWT_REFRESH_SECRET: ACCESS }));
      expect(error.message).toContain('JWT_ACCESS_SECRET');
      expect(error.message).toContain('JWT_REFRESH_SECRET');
    });

    it.each([
      ['a short JWT_ACCESS_SECRET', { JWT_ACCESS_SECRET: short }],
      ['a short second key in the JWT_REFRESH_SECRET ring', { JWT_REFRESH_SECRET: `${REFRESH},${short}` }],
    ])('never puts the secret in the error for %s', (_name, env) => {
      const error = configError(validEnv(env));
      for (const text of [error.message, String(error), error.stack ?? '']) {
        expect(text).not.toContain(short);
        expect(text).not.toContain(REFRESH);
      }
    });

    it('never puts the secret in the error for equal secrets', () => {
      const error = configError(validEnv({ JWT_REFRESH_SECRET: ACCESS }));
      expect(error.message).not.toContain(ACCESS);
    });

    it.each([
      ['PORT', '30\n00'],
      ['LOG_LEVEL', 'info\nfatal: forged log line'],
      ['ACCESS_TOKEN_TTL', '15\nm'],
      ['CORS_ORIGINS', 'https://a.example\nhttps://b.example'],
    ])('keeps the %s error on one line when the value contains a line break', (variable, value) => {
      expectRefusal(validEnv({ [variable]: value }), variable);
    });
  });

  describe('accepted values', () => {
    it('reads PORT, HOST, issuer, audience and the switches', () => {
      const config = loadConfig(
        validEnv({
          PORT: '8080',
          HOST: '0.0.0.0',
          JWT_ISSUER: 'https://auth.example',
          JWT_AUDIENCE: 'api.example',
          RATE_LIMIT: 'off',
          COOKIE_SECURE: 'false',
          LOG_LEVEL: 'debug',
        }),
      );
      expect(config).toMatchObject({
        port: 8080,
        host: '0.0.0.0',
        jwt: { issuer: 'https://auth.example', audience: 'api.example' },
        rateLimit: false,
        cookieSecure: false,
        logLevel: 'debug',
      });
    });

    it('leaves metrics off and keeps auth events 90 days by default', () => {
      expect(loadConfig(validEnv({ METRICS_PORT: ' ' }))).toMatchObject({ metricsPort: undefined, auditRetention: 90 * 86400 });
    });

    it('reads METRICS_PORT and AUDIT_RETENTION', () => {
      expect(loadConfig(validEnv({ METRICS_PORT: '9464', AUDIT_RETENTION: '30d' }))).toMatchObject({ metricsPort: 9464, auditRetention: 30 * 86400 });
    });

    it.each(['main', 'worker'] as const)('reads PGLITE_THREAD=%s for the embedded database; unset leaves the default to the database client', (thread) => {
      expect(loadConfig(validEnv({ PGLITE_THREAD: thread })).database).toMatchObject({ kind: 'pglite', thread });
      expect(loadConfig(validEnv()).database).not.toHaveProperty('thread');
    });

    it('reads a comma-separated CORS_ORIGINS list, trimming spaces', () => {
      const { corsOrigins } = loadConfig(validEnv({ CORS_ORIGINS: 'https://a.example, http://localhost:5173' }));
      expect(corsOrigins).toEqual(['https://a.example', 'http://localhost:5173']);
    });

    it.each(['postgres://u@h:5432/db', 'postgresql://u:p@h:5432/db'])('uses PostgreSQL for DATABASE_URL %s', (url) => {
      expect(loadConfig(validEnv({ DATABASE_URL: url })).database).toEqual({ kind: 'postgres', url });
    });

    it('accepts a secret of exactly 32 bytes, counting UTF-8 bytes rather than characters', () => {
      const ascii = 'y'.repeat(32);
      const multiByte = 'é'.repeat(16); // 16 characters, 32 bytes
      const { jwt } = loadConfig(validEnv({ JWT_ACCESS_SECRET: ascii, JWT_REFRESH_SECRET: multiByte }));
      expect(jwt.accessSecrets).toEqual([ascii]);
      expect(jwt.refreshSecrets).toEqual([multiByte]);
    });
  });

  describe('key rings', () => {
    const k1 = 'key-one-0123456789abcdef0123456789';
    const k2 = 'key-two-0123456789abcdef0123456789';

    it('reads a comma-separated JWT_ACCESS_SECRET as a ring whose first key signs', () => {
      const { jwt } = loadConfig(validEnv({ JWT_ACCESS_SECRET: `${k1},${k2}` }));
      expect(jwt.accessSecrets).toEqual([k1, k2]);
    });

    it('trims spaces around the keys of a ring', () => {
      const { jwt } = loadConfig(validEnv({ JWT_REFRESH_SECRET: ` ${k1} , ${k2} ` }));
      expect(jwt.refreshSecrets).toEqual([k1, k2]);
    });

    it.each(['JWT_ACCESS_SECRET', 'JWT_REFRESH_SECRET'])('refuses a %s ring that lists the same key twice', (variable) => {
      const error = expectRefusal(validEnv({ [variable]: `${k1},${k2},${k1}` }), variable);
      expect(error.message).not.toContain(k1);
    });

    it('refuses a refresh ring that shares any key with the access ring', () => {
      const error = expectRefusal(validEnv({ JWT_ACCESS_SECRET: `${k1},${k2}`, JWT_REFRESH_SECRET: `${REFRESH},${k2}` }), 'JWT_REFRESH_SECRET');
      expect(error.message).not.toContain(k2);
    });

    it('refuses an empty key in a ring (a trailing comma)', () => {
      expectRefusal(validEnv({ JWT_ACCESS_SECRET: `${k1},` }), 'JWT_ACCESS_SECRET');
    });
  });

  describe('without secrets', () => {
    it('leaves both rings empty and writes nothing, not even DATA_DIR', () => {
      const dataDir = join(tempDataDir(), 'data');
      const config = loadConfig({ DATA_DIR: dataDir });

      expect(config.jwt.accessSecrets).toEqual([]);
      expect(config.jwt.refreshSecrets).toEqual([]);
      expect(config.dataDir).toBe(dataDir);
      expect(existsSync(dataDir)).toBe(false);
    });

    it('writes nothing into an existing, empty DATA_DIR', () => {
      const dataDir = tempDataDir();
      loadConfig({ DATA_DIR: dataDir });
      loadConfig({ DATA_DIR: dataDir, JWT_ACCESS_SECRET: ACCESS });
      expect(readdirSync(dataDir)).toEqual([]);
    });

    it('leaves only the unset ring empty', () => {
      const { jwt } = loadConfig({ DATA_DIR: tempDataDir(), JWT_REFRESH_SECRET: REFRESH });
      expect(jwt.accessSecrets).toEqual([]);
      expect(jwt.refreshSecrets).toEqual([REFRESH]);
    });

    it('resolves a relative DATA_DIR to an absolute dataDir', () => {
      expect(isAbsolute(loadConfig({ DATA_DIR: 'relative-data' }).dataDir)).toBe(true);
      expect(isAbsolute(loadConfig({}).dataDir)).toBe(true);
    });
  });

  describe('NODE_ENV=production', () => {
    it('refuses to start without JWT_ACCESS_SECRET and JWT_REFRESH_SECRET, creating no key file', () => {
      const dataDir = tempDataDir();
      const error = configError({ NODE_ENV: 'production', DATA_DIR: dataDir });
      expect(error.message).toContain('JWT_ACCESS_SECRET');
      expect(error.message).toContain('JWT_REFRESH_SECRET');
      expect(error.message).not.toMatch(/[\r\n]/);
      expect(existsSync(join(dataDir, 'dev-keys.json'))).toBe(false);
    });

    it.each([
      ['JWT_REFRESH_SECRET', { JWT_ACCESS_SECRET: STRONG_ACCESS }],
      ['JWT_ACCESS_SECRET', { JWT_REFRESH_SECRET: STRONG_REFRESH }],
    ])('refuses to start without %s alone, naming it', (missing, env) => {
      expectRefusal({ NODE_ENV: 'production', DATA_DIR: tempDataDir(), ...env }, missing);
    });

    it('loads with explicit distinct secrets, with no development-key warning and no dev-keys.json', () => {
      const dataDir = tempDataDir();
      const config = loadConfig({
        NODE_ENV: 'production',
        DATA_DIR: dataDir,
        JWT_ACCESS_SECRET: STRONG_ACCESS,
        JWT_REFRESH_SECRET: STRONG_REFRESH,
      });
      expect(config.production).toBe(true);
      expectNoDevelopmentKeysNeeded(config);
      expect(config.jwt.accessSecrets).toEqual([STRONG_ACCESS]);
      expect(config.jwt.refreshSecrets).toEqual([STRONG_REFRESH]);
      expect(existsSync(join(dataDir, 'dev-keys.json'))).toBe(false);
    });

    describe('signing keys', () => {
      /** A production environment with strong keys, where `variable` is set to `value`. */
      const productionEnv = (variable: string, value: string): NodeJS.ProcessEnv => ({
        NODE_ENV: 'production',
        DATA_DIR: tempDataDir(),
        JWT_ACCESS_SECRET: STRONG_ACCESS,
        JWT_REFRESH_SECRET: STRONG_REFRESH,
        [variable]: value,
      });
      const hex = () => randomBytes(32).toString('hex');

      // Each row: [case, the key (every one at least 32 bytes, so only the new rule refuses it), the key's place in its ring].
      const weak: [string, string][] = [
        ['64 × "a"', 'a'.repeat(64)],
        ['change-me, repeated', 'change-me-change-me-change-me-change-me'],
        ['a digit run', '0123456789'.repeat(4)],
        ['two characters, alternating', 'ab'.repeat(60)],
      ];
      const placeholders: [string, string][] = [
        ['"secret" in a long phrase', 'supersecretkeythatnobodywillguess2024'],
        ['"Password", capitalised', 'ThisIsMyPassword-ForTheJWT-Signing-2024!'],
        ['"Change_Me", spelled with underscores', 'Change_Me_Before_Deploying_To_Production_42'],
        ['"CHANGEME" in capitals', 'CHANGEME-9f8e7d6c5b4a39281706f5e4d3c2b1a0'],
        ["jwt.io's sample key", 'your-256-bit-secret-your-256-bit-secret'],
        ['"example"', `example-key-${hex()}`],
        ['"secret" beside a random part', `prod-jwt-secret-${hex()}`],
        ["the test helper's access key", HELPER_ACCESS],
        ["the test helper's refresh key", HELPER_REFRESH],
      ];

      describe.each(['JWT_ACCESS_SECRET', 'JWT_REFRESH_SECRET'])('%s', (variable) => {
        it.each([...weak, ...placeholders])('refuses %s, in one line that names it and not the key', (_case, key) => {
          const error = expectRefusal(productionEnv(variable, key), variable);
          expect(error.message).toContain('key 1 ');
          expect(error.message).toContain('NODE_ENV=production');
          expect(error.message).not.toContain(key);
        });

        it.each([...weak, ...placeholders])('refuses %s as the second key of a ring, saying which', (_case, key) => {
          const error = expectRefusal(productionEnv(variable, `${hex()},${key}`), variable);
          expect(error.message).toContain('key 2 ');
          expect(error.message).not.toContain(key);
        });

        it.each([...weak, ...placeholders])('accepts %s outside production', (_case, key) => {
          const env = { ...productionEnv(variable, key), NODE_ENV: 'development' };
          expect(loadConfig(env).production).toBe(false);
        });
      });

      it('names the problem: a placeholder, or too easy to guess', () => {
        expect(configError(productionEnv('JWT_ACCESS_SECRET', 'a'.repeat(64))).message).toMatch(/too easy to guess/);
        expect(configError(productionEnv('JWT_ACCESS_SECRET', 'supersecretkeythatnobodywillguess2024')).message).toMatch(/placeholder/);
      });

      // Random keys vary: each row is tried on 50 fresh keys.
      it.each([
        ['openssl rand -hex 32', () => randomBytes(32).toString('hex')],
        ['32 random bytes in base64', () => randomBytes(32).toString('base64')],
        ['32 random bytes in base64url', () => randomBytes(32).toString('base64url')],
        ['48 random bytes in base64', () => randomBytes(48).toString('base64')],
      ])('accepts %s in both rings', (_case, generate) => {
        for (let i = 0; i < 50; i += 1) {
          const access = [generate(), generate()];
          const refresh = generate();
          const config = loadConfig({ ...productionEnv('JWT_REFRESH_SECRET', refresh), JWT_ACCESS_SECRET: access.join(',') });
          expect(config.jwt.accessSecrets).toEqual(access);
          expect(config.jwt.refreshSecrets).toEqual([refresh]);
        }
      });
    });
  });

  describe('development keys', () => {
    it.each([
      ['NODE_ENV unset', {}],
      ['NODE_ENV=development', { NODE_ENV: 'development' }],
    ])('generates DATA_DIR/dev-keys.json readable by the owner only (%s)', (_label, env: NodeJS.ProcessEnv) => {
      const dataDir = tempDataDir();
      const { config } = loadWithDevelopmentKeys({ DATA_DIR: dataDir, ...env });
      const file = join(dataDir, 'dev-keys.json');

      expect(statSync(file).mode & 0o777).toBe(0o600);
      const [access] = config.jwt.accessSecrets;
      const [refresh] = config.jwt.refreshSecrets;
      expect(config.jwt.accessSecrets).toHaveLength(1);
      expect(config.jwt.refreshSecrets).toHaveLength(1);
      expect(Buffer.byteLength(access!, 'utf8')).toBeGreaterThanOrEqual(32);
      expect(Buffer.byteLength(refresh!, 'utf8')).toBeGreaterThanOrEqual(32);
      expect(access).not.toBe(refresh);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ access, refresh });
    });

    it('returns exactly one warning that names both variables and holds no key material', () => {
      const { config, warning } = loadWithDevelopmentKeys({ DATA_DIR: tempDataDir() });

      expect(typeof warning).toBe('string');
      expect(warning).not.toMatch(/[\r\n]/);
      expect(warning).toContain('JWT_ACCESS_SECRET');
      expect(warning).toContain('JWT_REFRESH_SECRET');
      for (const key of [...config.jwt.accessSecrets, ...config.jwt.refreshSecrets]) {
        expect(warning).not.toContain(key);
      }
    });

    it('keeps the same keys across restarts with the same DATA_DIR', () => {
      const dataDir = tempDataDir();
      const first = loadWithDevelopmentKeys({ DATA_DIR: dataDir }).config.jwt;
      const second = loadWithDevelopmentKeys({ DATA_DIR: dataDir }).config.jwt;

      expect(second.accessSecrets).toEqual(first.accessSecrets);
      expect(second.refreshSecrets).toEqual(first.refreshSecrets);
    });

    it('generates different keys for a different DATA_DIR', () => {
      const first = loadWithDevelopmentKeys({ DATA_DIR: tempDataDir() }).config.jwt;
      const second = loadWithDevelopmentKeys({ DATA_DIR: tempDataDir() }).config.jwt;
      expect(second.accessSecrets).not.toEqual(first.accessSecrets);
    });

    it('fills in only the missing secret and names only that one in the warning', () => {
      const dataDir = tempDataDir();
      const { config, warning } = loadWithDevelopmentKeys({ DATA_DIR: dataDir, JWT_ACCESS_SECRET: ACCESS });

      expect(config.jwt.accessSecrets).toEqual([ACCESS]);
      expect(config.jwt.refreshSecrets).toHaveLength(1);
      expect(config.jwt.refreshSecrets[0]).not.toBe(ACCESS);
      expect(warning).toContain('JWT_REFRESH_SECRET');
      expect(warning).not.toContain('JWT_ACCESS_SECRET');
      expect(warning).not.toContain(ACCESS);
    });
  });
});

describe('productionWarnings', () => {
  /** Production with strong keys, PostgreSQL, and every setting at its safe default, plus `overrides`. */
  const production = (overrides: NodeJS.ProcessEnv = {}) =>
    loadConfig(
      validEnv({
        NODE_ENV: 'production',
        JWT_ACCESS_SECRET: STRONG_ACCESS,
        JWT_REFRESH_SECRET: STRONG_REFRESH,
        DATABASE_URL: 'postgres://app@db.internal:5432/auth',
        ...overrides,
      }),
    );

  it('has nothing to say about safe production settings', () => {
    expect(productionWarnings(production({ CORS_ORIGINS: 'https://app.example', REFRESH_REUSE_GRACE: '60s', TRUST_PROXY: '10.0.0.0/8' }))).toEqual([]);
  });

  // Each row: [case, the setting, the start of its one line].
  it.each([
    ['COOKIE_SECURE=false', { COOKIE_SECURE: 'false' }, 'COOKIE_SECURE=false: '],
    ['an http:// CORS origin', { CORS_ORIGINS: 'https://app.example,http://app.example' }, 'CORS_ORIGINS: http://app.example is plain HTTP'],
    ['two http:// CORS origins, in one line', { CORS_ORIGINS: 'http://a.example,http://localhost:5173' }, 'CORS_ORIGINS: http://a.example, http://localhost:5173 are plain HTTP'],
    ['REFRESH_REUSE_GRACE over 60 s', { REFRESH_REUSE_GRACE: '61s' }, 'REFRESH_REUSE_GRACE=61s: '],
    ['REFRESH_REUSE_GRACE of an hour', { REFRESH_REUSE_GRACE: '1h' }, 'REFRESH_REUSE_GRACE=3600s: '],
    ['the embedded database', { DATABASE_URL: '' }, 'DATABASE_URL is not set: running on the embedded database'],
    ['a TRUST_PROXY hop count', { TRUST_PROXY: '1' }, 'TRUST_PROXY=1: X-Forwarded-For is believed from whoever connects'],
  ])('warns in one line about %s', (_case, env, start) => {
    const warnings = productionWarnings(production(env));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.startsWith(start), warnings[0]).toBe(true);
    expect(warnings[0]).not.toMatch(/[\r\n]/);
  });

  it('warns once for each, all together, and never shows a key', () => {
    const warnings = productionWarnings(
      production({ COOKIE_SECURE: 'false', CORS_ORIGINS: 'http://a.example', REFRESH_REUSE_GRACE: '5m', DATABASE_URL: '' }),
    );
    expect(warnings.map((line) => line.split(/[:= ]/)[0])).toEqual(['COOKIE_SECURE', 'CORS_ORIGINS', 'REFRESH_REUSE_GRACE', 'DATABASE_URL']);
    for (const line of warnings) {
      expect(line).not.toContain(STRONG_ACCESS);
      expect(line).not.toContain(STRONG_REFRESH);
    }
  });

  it('says nothing outside production', () => {
    const config = loadConfig(validEnv({ COOKIE_SECURE: 'false', CORS_ORIGINS: 'http://a.example', REFRESH_REUSE_GRACE: '5m' }));
    expect(config.database.kind).toBe('pglite');
    expect(productionWarnings(config)).toEqual([]);
  });
});

describe('useDevelopmentKeys', () => {
  it('generates the key file on the first call and says so, without key material', () => {
    const dataDir = tempDataDir();
    const loaded = loadConfig({ DATA_DIR: dataDir });
    const { config, warning } = useDevelopmentKeys(loaded);
    const file = join(dataDir, 'dev-keys.json');

    expect(existsSync(file)).toBe(true);
    expect(warning).toMatch(/generated/i);
    expect(warning).toContain(file);
    expect(warning).toMatch(/never in production/);
    expect(warning).not.toMatch(/[\r\n]/);
    for (const key of [...config.jwt.accessSecrets, ...config.jwt.refreshSecrets]) expect(warning).not.toContain(key);
    // The input is left alone: a new config comes back.
    expect(loaded.jwt.accessSecrets).toEqual([]);
    expect(loaded.jwt.refreshSecrets).toEqual([]);
  });

  it('on a later call with the same dataDir returns the same keys and does not claim to generate them', () => {
    const dataDir = tempDataDir();
    const first = useDevelopmentKeys(loadConfig({ DATA_DIR: dataDir }));
    const second = useDevelopmentKeys(loadConfig({ DATA_DIR: dataDir }));
    const file = join(dataDir, 'dev-keys.json');

    expect(second.config.jwt.accessSecrets).toEqual(first.config.jwt.accessSecrets);
    expect(second.config.jwt.refreshSecrets).toEqual(first.config.jwt.refreshSecrets);
    expect(second.warning).toBeDefined();
    expect(second.warning).not.toMatch(/generat/i);
    expect(second.warning).toContain('JWT_ACCESS_SECRET');
    expect(second.warning).toContain('JWT_REFRESH_SECRET');
    expect(second.warning).toContain(file);
    expect(second.warning).toMatch(/development keys/);
    expect(second.warning).toMatch(/never in production/);
    expect(second.warning).not.toMatch(/[\r\n]/);
    for (const key of [...second.config.jwt.accessSecrets, ...second.config.jwt.refreshSecrets]) {
      expect(second.warning).not.toContain(key);
    }
  });

  it('returns the same config, no warning and no file when both secrets are set', () => {
    const dataDir = tempDataDir();
    const config = loadConfig({ DATA_DIR: dataDir, JWT_ACCESS_SECRET: ACCESS, JWT_REFRESH_SECRET: REFRESH });
    expectNoDevelopmentKeysNeeded(config);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('refuses a stored development key that equals an explicit secret of the other ring', () => {
    const dataDir = tempDataDir();
    const stored = 'stored-development-key-0123456789abcdef';
    writeFileSync(join(dataDir, 'dev-keys.json'), JSON.stringify({ access: stored, refresh: REFRESH }));
    const config = loadConfig({ DATA_DIR: dataDir, JWT_REFRESH_SECRET: stored });

    const error = thrownConfigError(() => useDevelopmentKeys(config), 'useDevelopmentKeys');
    expect(error.variable).toBe('JWT_REFRESH_SECRET');
    expect(error.message).toBe('JWT_REFRESH_SECRET: must differ from every JWT_ACCESS_SECRET key');
    expect(error.message).not.toContain(stored);
  });

  it.each([
    ['both secrets', {}],
    ['JWT_REFRESH_SECRET', { JWT_ACCESS_SECRET: ACCESS }],
    ['JWT_ACCESS_SECRET', { JWT_REFRESH_SECRET: REFRESH }],
  ])('refuses a production config without %s exactly as loadConfig does, writing nothing', (_missing, secrets) => {
    const dataDir = tempDataDir();
    const expected = configError({ NODE_ENV: 'production', DATA_DIR: dataDir, ...secrets });
    const production = { ...loadConfig({ DATA_DIR: dataDir, ...secrets }), production: true };

    const error = thrownConfigError(() => useDevelopmentKeys(production), 'useDevelopmentKeys');
    expect(error.variable).toBe(expected.variable);
    expect(error.message).toBe(expected.message);
    expect(readdirSync(dataDir)).toEqual([]);
  });
});

describe('requireSigningKeys', () => {
  const advice = 'is not set: set it, or call useDevelopmentKeys(config) before registering the plugin';

  it.each([
    ['JWT_ACCESS_SECRET', 'both are unset', {}],
    ['JWT_ACCESS_SECRET', 'only it is unset', { JWT_REFRESH_SECRET: REFRESH }],
    ['JWT_REFRESH_SECRET', 'only it is unset', { JWT_ACCESS_SECRET: ACCESS }],
  ])('throws naming %s when %s', (variable, _case, secrets) => {
    const config = loadConfig({ DATA_DIR: tempDataDir(), ...secrets });
    const error = thrownConfigError(() => requireSigningKeys(config), 'requireSigningKeys');
    expect(error.variable).toBe(variable);
    expect(error.message).toBe(`${variable}: ${advice}`);
  });

  it('accepts explicit secrets', () => {
    expect(() => requireSigningKeys(loadConfig(validEnv()))).not.toThrow();
  });

  it('accepts a config completed by useDevelopmentKeys', () => {
    const { config } = useDevelopmentKeys(loadConfig({ DATA_DIR: tempDataDir(), JWT_ACCESS_SECRET: ACCESS }));
    expect(() => requireSigningKeys(config)).not.toThrow();
  });
});
