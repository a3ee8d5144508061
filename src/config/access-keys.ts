import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { algorithmOfKey, type AsymmetricAlgorithm } from '../tokens/jwk.js';

/** JWT_ACCESS_ALGORITHM: how access tokens are signed (refresh tokens are always HS256). */
export type AccessAlgorithm = 'HS256' | AsymmetricAlgorithm;

export const ACCESS_ALGORITHMS: readonly AccessAlgorithm[] = ['HS256', 'EdDSA', 'ES256'];

/** What each asymmetric algorithm needs, for error messages, and how to make one. */
const KEY_NAMES: Record<AsymmetricAlgorithm, { key: string; openssl: string }> = {
  EdDSA: { key: 'an Ed25519 key', openssl: 'openssl genpkey -algorithm ed25519' },
  ES256: { key: 'a P-256 key', openssl: 'openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256' },
};

/** A problem with one key; the caller names the variable. Never holds key material. */
export class AccessKeyProblem extends Error {}

/**
 * The private key of PEM `text`, checked against `algorithm`, as unencrypted PKCS#8 PEM (one
 * form whatever the input: PKCS#8 or SEC1). Throws AccessKeyProblem saying what is wrong,
 * without the key.
 */
export function accessPrivateKey(text: Buffer | string, algorithm: AsymmetricAlgorithm): { pem: string; key: KeyObject } {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: 'pem' });
  } catch {
    throw new AccessKeyProblem('is not a PEM private key (an unencrypted "PRIVATE KEY" or "EC PRIVATE KEY" block)');
  }
  const actual = algorithmOfKey(key);
  if (actual !== algorithm) {
    const found = actual ? KEY_NAMES[actual].key : `a key of type ${key.asymmetricKeyType}${curveOf(key)}`;
    throw new AccessKeyProblem(`is ${found}, but JWT_ACCESS_ALGORITHM=${algorithm} needs ${KEY_NAMES[algorithm].key} (${KEY_NAMES[algorithm].openssl})`);
  }
  return { pem: key.export({ type: 'pkcs8', format: 'pem' }) as string, key };
}

/**
 * JWT_ACCESS_PRIVATE_KEYS: comma-separated PEM file paths, read and checked; the PKCS#8 PEM
 * of each key, in order (the first signs). Throws AccessKeyProblem naming the key's position
 * and path.
 */
export function readAccessPrivateKeys(value: string, algorithm: AsymmetricAlgorithm): string[] {
  const paths = value.split(',').map((path) => path.trim());
  const seen: Buffer[] = [];
  return paths.map((path, index) => {
    const which = `key ${index + 1}${path ? ` (${JSON.stringify(path)})` : ''}`;
    if (path === '') throw new AccessKeyProblem(`${which} is an empty path`);
    let text: Buffer;
    try {
      text = readFileSync(path);
    } catch (error) {
      throw new AccessKeyProblem(`cannot read ${which}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
    let parsed: { pem: string; key: KeyObject };
    try {
      parsed = accessPrivateKey(text, algorithm);
    } catch (error) {
      if (error instanceof AccessKeyProblem) throw new AccessKeyProblem(`${which} ${error.message}`);
      throw error;
    }
    // The same key in two files (or two encodings) would publish one kid twice.
    const spki = publicDer(parsed.key);
    const twin = seen.findIndex((other) => other.equals(spki));
    if (twin !== -1) throw new AccessKeyProblem(`${which} is the same key as key ${twin + 1}`);
    seen.push(spki);
    return parsed.pem;
  });
}

/** A new private key for `algorithm`, as PKCS#8 PEM (development keys). */
export function generateAccessPrivateKey(algorithm: AsymmetricAlgorithm): string {
  const { privateKey } = algorithm === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** The public half's SPKI DER: equal for the same key, whatever file or encoding it came from. */
const publicDer = (key: KeyObject) => createPublicKey(key).export({ type: 'spki', format: 'der' });
const curveOf = (key: KeyObject) => (key.asymmetricKeyDetails?.namedCurve ? ` on curve ${key.asymmetricKeyDetails.namedCurve}` : '');
