import { createHmac } from 'node:crypto';

export type Json = Record<string, unknown>;
export type Hash = 'sha256' | 'sha384' | 'sha512';

export const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/** A compact JWS over raw header and payload JSON text, HMAC-signed (or unsigned). */
export function signRaw(headerText: string, payloadText: string, secret: string | undefined, hash: Hash = 'sha256'): string {
  const input = `${b64(headerText)}.${b64(payloadText)}`;
  return secret === undefined ? `${input}.` : `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
}

/** Replaces one character in the middle of segment `index`, staying inside the base64url alphabet. */
export function flip(token: string, index: number): string {
  const parts = token.split('.');
  const segment = parts[index] ?? '';
  const at = Math.floor(segment.length / 2);
  parts[index] = segment.slice(0, at) + (segment[at] === 'A' ? 'B' : 'A') + segment.slice(at + 1);
  return parts.join('.');
}
