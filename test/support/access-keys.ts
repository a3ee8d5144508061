import { createHmac, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { generateAccessPrivateKey, type AccessAlgorithm } from '../../src/config/access-keys.js';
import type { Config } from '../../src/config/index.js';
import { jwksKey } from '../../src/tokens/jwk.js';
import { ACCESS_SECRET, testConfig } from '../helper.js';
import { b64 } from './jwt.js';

export const ALGORITHMS: readonly AccessAlgorithm[] = ['HS256', 'EdDSA', 'ES256'];

/** A fresh private key for EdDSA or ES256: its PEM, KeyObject and kid (thumbprint). */
export function newAccessKey(algorithm: 'EdDSA' | 'ES256') {
  const pem = generateAccessPrivateKey(algorithm);
  const key = createPrivateKey(pem);
  const jwk = jwksKey(key);
  return { pem, key, kid: jwk.kid, jwk, publicPem: createPublicKey(key).export({ type: 'spki', format: 'pem' }) as string };
}

/** The `jwt` config for `algorithm`: our HS256 test secret, or the given (else a fresh) private keys. */
export function accessJwtConfig(algorithm: AccessAlgorithm, privateKeys?: string[]): Config['jwt'] {
  const base = testConfig().jwt;
  if (algorithm === 'HS256') return { ...base, accessAlgorithm: 'HS256', accessSecrets: [ACCESS_SECRET], accessPrivateKeys: [] };
  return { ...base, accessAlgorithm: algorithm, accessSecrets: [], accessPrivateKeys: privateKeys ?? [newAccessKey(algorithm).pem] };
}

/** A compact JWS over raw header and payload text, signed with an Ed25519 or P-256 private key (JOSE's r ‖ s for ES256). */
export function signAsymmetric(headerText: string, payloadText: string, key: KeyObject): string {
  const input = `${b64(headerText)}.${b64(payloadText)}`;
  const signature =
    key.asymmetricKeyType === 'ed25519' ? sign(null, Buffer.from(input), key) : sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/** A compact JWS HMAC-SHA256-signed with `secret` (any bytes: a public key's PEM text, its raw `x`…). */
export function signHmac(headerText: string, payloadText: string, secret: string | Buffer): string {
  const input = `${b64(headerText)}.${b64(payloadText)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

