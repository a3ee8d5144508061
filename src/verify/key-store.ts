import { createVerifier } from 'fast-jwt';
import { withoutCacheKeyWarning } from '../plugins/tokens.js';
import { verifierOptions } from '../tokens/codec.js';
import { ACCESS_CACHE_SIZE, ACCESS_CLAIMS } from '../tokens/index.js';
import type { PublicKey } from './public-key.js';

/** Verifies one token's signature, header and claims with one key; throws fast-jwt's TokenError. */
export type KeyVerifier = (token: string) => Record<string, unknown>;


export interface Expected {
  issuer: string;
  audience: string;
}

/**
 * The verifiers of the keys we know, by `kid`: one fast-jwt verifier per key, built once
 * when the key arrives (never per request), pinned to that key's algorithm.
 */
export class KeyStore {
  private byKid = new Map<string, { pem: string; verify: KeyVerifier }>();

  constructor(private readonly expected: Expected) {}

  get(kid: string): KeyVerifier | undefined {
    return this.byKid.get(kid)?.verify;
  }

  /** The kids held, for logs and status. */
  get kids(): string[] {
    return [...this.byKid.keys()];
  }

  /**
   * Holds exactly `keys` from now on: a key seen before keeps its verifier (and its cache
   * of verified tokens), a new one gets a verifier, a key no longer listed is dropped, so
   * its tokens stop verifying at once.
   */
  async replace(keys: readonly PublicKey[]): Promise<void> {
    const next = new Map<string, { pem: string; verify: KeyVerifier }>();
    await withoutCacheKeyWarning(async () => {
      for (const key of keys) {
        const known = this.byKid.get(key.kid);
        next.set(key.kid, known?.pem === key.pem ? known : { pem: key.pem, verify: this.verifierFor(key) });
      }
    });
    this.byKid = next;
  }

  private verifierFor(key: PublicKey): KeyVerifier {
    const { issuer, audience } = this.expected;
    const access = { algorithm: key.alg, typ: 'at+jwt', issuer, audience, claims: ACCESS_CLAIMS, cacheSize: ACCESS_CACHE_SIZE };
    return createVerifier({
      key: key.pem,
      ...verifierOptions(access),
    }) as KeyVerifier;
  }
}
