import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, requireSigningKeys, useDevelopmentKeys } from '../../src/config/index.js';
import { startupFailure } from '../../src/config/startup-failure.js';
import { jwksKey } from '../../src/tokens/jwk.js';
import { newAccessKey } from '../support/access-keys.js';

const REFRESH = randomBytes(32).toString('hex');
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'versioned-auth-keys-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Writes `text` to a new file in a temp dir and returns its path. */
function keyFile(text: string | Buffer, name = 'key.pem'): string {
  const path = join(tempDir(), name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

const ed25519 = () => newAccessKey('EdDSA');
const p256 = () => newAccessKey('ES256');
const env = (algorithm: string, keys: string, more: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  DATA_DIR: tempDir(),
  JWT_REFRESH_SECRET: REFRESH,
  JWT_ACCESS_ALGORITHM: algorithm,
  JWT_ACCESS_PRIVATE_KEYS: keys,
  ...more,
});

function refusal(environment: NodeJS.ProcessEnv): ConfigError {
  let thrown: unknown;
  try {
    loadConfig(environment);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  return thrown as ConfigError;
}

describe('JWT_ACCESS_ALGORITHM and JWT_ACCESS_PRIVATE_KEYS', () => {
  it('defaults to HS256 with no private keys', () => {
    const { jwt } = loadConfig({ DATA_DIR: tempDir() });
    expect(jwt.accessAlgorithm).toBe('HS256');
    expect(jwt.accessPrivateKeys).toEqual([]);
  });

  it.each([
    ['EdDSA', ed25519],
    ['eddsa', ed25519],
    ['ES256', p256],
  ])('loads %s keys as PKCS#8 PEM, in order', (algorithm, make) => {
    const [first, second] = [make(), make()];
    const { jwt } = loadConfig(env(algorithm, ` ${keyFile(first.pem)} , ${keyFile(second.pem)}`));
    expect(jwt.accessAlgorithm).toBe(algorithm === 'eddsa' ? 'EdDSA' : algorithm);
    expect(jwt.accessSecrets).toEqual([]);
    expect(jwt.accessPrivateKeys.map((pem) => jwksKey(createPrivateKey(pem)).kid)).toEqual([first.kid, second.kid]);
    expect(jwt.accessPrivateKeys.every((pem) => pem.startsWith('-----BEGIN PRIVATE KEY-----'))).toBe(true);
  });

  it('accepts a P-256 key in SEC1 form ("EC PRIVATE KEY", what openssl ecparam writes)', () => {
    const key = p256();
    const sec1 = key.key.export({ type: 'sec1', format: 'pem' }) as string;
    const { jwt } = loadConfig(env('ES256', keyFile(sec1)));
    expect(jwksKey(createPrivateKey(jwt.accessPrivateKeys[0]!)).kid).toBe(key.kid);
  });

  const encrypted = () =>
    generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pass-phrase' }) as string;

  // Each row: [case, the environment, the variable, what the line says].
  it.each<[string, () => NodeJS.ProcessEnv, string, RegExp]>([
    ['an unknown algorithm', () => env('RS256', ''), 'JWT_ACCESS_ALGORITHM', /"RS256" must be one of HS256, EdDSA, ES256/],
    ['a file that does not exist', () => env('EdDSA', '/nonexistent/key.pem'), 'JWT_ACCESS_PRIVATE_KEYS', /cannot read key 1 \("\/nonexistent\/key\.pem"\): ENOENT/],
    ['a directory', () => env('EdDSA', tempDir()), 'JWT_ACCESS_PRIVATE_KEYS', /cannot read key 1 .*: EISDIR/],
    ['a file that is not PEM', () => env('EdDSA', keyFile('just some text\n')), 'JWT_ACCESS_PRIVATE_KEYS', /key 1 .* is not a PEM private key/],
    ['a DER file', () => env('EdDSA', keyFile(ed25519().key.export({ type: 'pkcs8', format: 'der' }))), 'JWT_ACCESS_PRIVATE_KEYS', /key 1 .* is not a PEM private key/],
    ['a public key', () => env('EdDSA', keyFile(ed25519().publicPem)), 'JWT_ACCESS_PRIVATE_KEYS', /key 1 .* is not a PEM private key/],
    ['an encrypted private key', () => env('EdDSA', keyFile(encrypted())), 'JWT_ACCESS_PRIVATE_KEYS', /key 1 .* is not a PEM private key/],
    ['a P-256 key with EdDSA', () => env('EdDSA', keyFile(p256().pem)), 'JWT_ACCESS_PRIVATE_KEYS', /key 1 .* is a P-256 key, but JWT_ACCESS_ALGORITHM=EdDSA needs an Ed25519 key \(openssl genpkey -algorithm ed25519\)/],
    ['an Ed25519 key with ES256', () => env('ES256', keyFile(ed25519().pem)), 'JWT_ACCESS_PRIVATE_KEYS', /is an Ed25519 key, but JWT_ACCESS_ALGORITHM=ES256 needs a P-256 key/],
    ['an RSA key', () => env('ES256', keyFile(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }))), 'JWT_ACCESS_PRIVATE_KEYS', /is a key of type rsa, but/],
    ['a P-384 key with ES256', () => env('ES256', keyFile(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'pem' }))), 'JWT_ACCESS_PRIVATE_KEYS', /is a key of type ec on curve secp384r1, but/],
    ['the second key of the wrong type', () => env('EdDSA', `${keyFile(ed25519().pem)},${keyFile(p256().pem)}`), 'JWT_ACCESS_PRIVATE_KEYS', /^JWT_ACCESS_PRIVATE_KEYS: key 2 /],
    ['the same file twice', () => {
      const path = keyFile(ed25519().pem);
      return env('EdDSA', `${path},${path}`);
    }, 'JWT_ACCESS_PRIVATE_KEYS', /key 2 .* is the same key as key 1/],
    ['the same key in two files and two encodings', () => {
      const key = p256();
      return env('ES256', `${keyFile(key.pem)},${keyFile(key.key.export({ type: 'sec1', format: 'pem' }))}`);
    }, 'JWT_ACCESS_PRIVATE_KEYS', /key 2 .* is the same key as key 1/],
    ['an empty entry', () => env('EdDSA', `${keyFile(ed25519().pem)},,`), 'JWT_ACCESS_PRIVATE_KEYS', /key 2 is an empty path/],
    ['private keys with HS256', () => env('HS256', keyFile(ed25519().pem)), 'JWT_ACCESS_PRIVATE_KEYS', /is for JWT_ACCESS_ALGORITHM=EdDSA or ES256, and JWT_ACCESS_ALGORITHM is HS256/],
    ['JWT_ACCESS_SECRET with EdDSA', () => env('EdDSA', keyFile(ed25519().pem), { JWT_ACCESS_SECRET: randomBytes(32).toString('hex') }), 'JWT_ACCESS_SECRET', /signs HS256 access tokens only; with JWT_ACCESS_ALGORITHM=EdDSA .* unset JWT_ACCESS_SECRET/],
    ['no private keys in production', () => env('ES256', '', { NODE_ENV: 'production', DATABASE_URL: 'postgres://db/auth' }), 'JWT_ACCESS_PRIVATE_KEYS', /is required when NODE_ENV=production/],
  ])('refuses %s in one line naming the variable, without key material', (_case, make, variable, says) => {
    const environment = make();
    const error = refusal(environment);
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
    expect(error.message).toMatch(says);
    expect(error.message).not.toMatch(/[\r\n]/);
    expect(error.message).not.toMatch(/BEGIN|PRIVATE KEY-----/);
    for (const path of (environment.JWT_ACCESS_PRIVATE_KEYS ?? '').split(',').filter((p) => p && existsSync(p) && statSync(p).isFile())) {
      const body = readFileSync(path, 'utf8').split('\n')[1] ?? '';
      if (body) expect(error.message).not.toContain(body);
    }
  });

  it('loads in production with private keys and a refresh secret, writing nothing to DATA_DIR', () => {
    const environment = env('EdDSA', keyFile(ed25519().pem), { NODE_ENV: 'production', DATABASE_URL: 'postgres://db/auth' });
    const config = loadConfig(environment);
    expect(useDevelopmentKeys(config)).toEqual({ config });
    expect(() => requireSigningKeys(config)).not.toThrow();
  });

  it('requireSigningKeys names JWT_ACCESS_PRIVATE_KEYS when an asymmetric algorithm has none', () => {
    const config = loadConfig(env('EdDSA', ''));
    expect(() => requireSigningKeys(config)).toThrow(/^JWT_ACCESS_PRIVATE_KEYS: is not set/);
  });
});

describe('development keys for EdDSA and ES256', () => {
  it.each([
    ['EdDSA', 'dev-access-key-eddsa.pem', 'ed25519'],
    ['ES256', 'dev-access-key-es256.pem', 'ec'],
  ])('%s: generates DATA_DIR/%s (mode 0600) and the refresh key, with one warning line and no key material', (algorithm, name, type) => {
    const dataDir = tempDir();
    const { config, warning } = useDevelopmentKeys(loadConfig({ DATA_DIR: dataDir, JWT_ACCESS_ALGORITHM: algorithm }));
    const file = join(dataDir, name);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(config.jwt.accessPrivateKeys).toHaveLength(1);
    expect(createPrivateKey(readFileSync(file, 'utf8')).asymmetricKeyType).toBe(type);
    expect(config.jwt.accessSecrets).toEqual([]);
    expect(config.jwt.refreshSecrets).toHaveLength(1);
    expect(warning).toBe(`JWT_ACCESS_PRIVATE_KEYS and JWT_REFRESH_SECRET not set: generated development keys into ${join(dataDir, 'dev-keys.json')} and ${file} (never in production)`);
    expect(warning).not.toContain(config.jwt.refreshSecrets[0]);
  });

  it('keeps the same key across restarts, and says it is using it', () => {
    const dataDir = tempDir();
    const first = useDevelopmentKeys(loadConfig({ DATA_DIR: dataDir, JWT_ACCESS_ALGORITHM: 'EdDSA' }));
    const second = useDevelopmentKeys(loadConfig({ DATA_DIR: dataDir, JWT_ACCESS_ALGORITHM: 'EdDSA' }));
    expect(second.config.jwt.accessPrivateKeys).toEqual(first.config.jwt.accessPrivateKeys);
    expect(second.warning).toMatch(/^JWT_ACCESS_PRIVATE_KEYS and JWT_REFRESH_SECRET not set: signing with the development keys kept in /);
  });

  it('uses a key file already in place (written by a process that won the race) rather than its own', () => {
    const dataDir = tempDir();
    const winner = ed25519();
    writeFileSync(join(dataDir, 'dev-access-key-eddsa.pem'), winner.pem, { mode: 0o600 });
    const { config } = useDevelopmentKeys(loadConfig({ DATA_DIR: dataDir, JWT_ACCESS_ALGORITHM: 'EdDSA', JWT_REFRESH_SECRET: REFRESH }));
    expect(jwksKey(createPrivateKey(config.jwt.accessPrivateKeys[0]!)).kid).toBe(winner.kid);
  });

  it('names only JWT_ACCESS_PRIVATE_KEYS and writes no dev-keys.json when the refresh secret is set', () => {
    const dataDir = tempDir();
    const { warning } = useDevelopmentKeys(loadConfig({ DATA_DIR: dataDir, JWT_ACCESS_ALGORITHM: 'ES256', JWT_REFRESH_SECRET: REFRESH }));
    expect(warning).toMatch(/^JWT_ACCESS_PRIVATE_KEYS not set: generated development keys into \S+dev-access-key-es256\.pem \(never in production\)$/);
    expect(existsSync(join(dataDir, 'dev-keys.json'))).toBe(false);
  });

  it('refuses a development key file that is not a key of the algorithm, naming DATA_DIR', () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'dev-access-key-eddsa.pem'), p256().pem);
    let thrown: unknown;
    try {
      useDevelopmentKeys(loadConfig({ DATA_DIR: dataDir, JWT_ACCESS_ALGORITHM: 'EdDSA', JWT_REFRESH_SECRET: REFRESH }));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).message).toMatch(/^DATA_DIR: \S+dev-access-key-eddsa\.pem is a P-256 key, .*: delete it to generate a new development key$/);
  });

  it('an unwritable DATA_DIR is one start-up line naming DATA_DIR', () => {
    const notADirectory = join(tempDir(), 'file');
    writeFileSync(notADirectory, '');
    const config = loadConfig({ DATA_DIR: join(notADirectory, 'data'), JWT_ACCESS_ALGORITHM: 'EdDSA', JWT_REFRESH_SECRET: REFRESH });
    let thrown: unknown;
    try {
      useDevelopmentKeys(config);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeDefined();
    expect(startupFailure(thrown, config, 'keys')).toMatch(/^DATA_DIR: cannot use \S+ \(ENOTDIR\): give this user write access there/);
  });

  it('refuses to generate one in production, writing nothing', () => {
    const dataDir = join(tempDir(), 'data');
    mkdirSync(dataDir);
    const production = { ...loadConfig({ DATA_DIR: dataDir, JWT_ACCESS_ALGORITHM: 'EdDSA', JWT_REFRESH_SECRET: REFRESH }), production: true };
    expect(() => useDevelopmentKeys(production)).toThrow(/^JWT_ACCESS_PRIVATE_KEYS: is required when NODE_ENV=production$/);
    expect(existsSync(join(dataDir, 'dev-access-key-eddsa.pem'))).toBe(false);
  });
});
