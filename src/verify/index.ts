import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import '../fastify-types.js';
import { createAuthenticate } from '../plugins/authenticate.js';
import type { RevocationCheck } from '../plugins/revocation.js';
import { createAccessVerifier, UnknownKeyError, type KeySource } from './access-verifier.js';
import { KeyStore } from './key-store.js';
import { parseVerifyOptions, type VerifyOptions } from './options.js';
import { createRemoteKeys } from './remote-keys.js';
import { followRevocations } from './revocation.js';

export type { VerifyOptions } from './options.js';
export type { AccessClaims } from '../tokens/claims.js';

/**
 * versioned-auth/verify: verifies the access tokens of a versioned-auth service in another
 * Fastify service, with the service's public keys (its JWKS, or keys given), and
 * optionally follows its revocation feed. Decorates `authenticate` and `request.user`
 * exactly as the main plugin does: same checks, same 401 problems.
 */
const verify: FastifyPluginAsync<VerifyOptions> = async (host, raw) => {
  const options = parseVerifyOptions(raw);
  const { clock, names } = options;
  const expected = { issuer: options.issuer, audience: options.audience };

  let keys: KeySource;
  let retry: ((error: Error) => Promise<void> | undefined) | undefined;
  if (options.source.kind === 'jwks') {
    const { cooldownMs, maxAgeMs, timeoutMs } = options.jwks;
    const remote = createRemoteKeys({ url: options.source.url, expected, clock, log: host.log, cooldownMs, defaultMaxAgeMs: maxAgeMs, timeoutMs });
    host.addHook('onClose', async () => remote.close());
    await remote.refetch();
    keys = remote;
    retry = (error) => (error instanceof UnknownKeyError ? remote.refetch() : undefined);
  } else {
    const store = new KeyStore(expected);
    await store.replace(options.source.keys);
    keys = store;
  }

  let revoked: RevocationCheck | undefined;
  if (options.revocation) {
    const following = await followRevocations({ ...options.revocation, clock, log: host.log });
    host.addHook('onClose', () => following.close());
    revoked = following.check;
  }

  host.decorateRequest(names.user, null);
  host.decorate(names.authenticate, createAuthenticate({ verifyAccess: createAccessVerifier(keys, clock) }, names.user, false, revoked, retry));
};

export default fp(verify, { name: 'versioned-auth-verify', fastify: '5.x' });
