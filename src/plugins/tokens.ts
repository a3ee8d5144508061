import fastifyJwt, { type JWT } from '@fastify/jwt';
import fp from 'fastify-plugin';
import type { Config } from '../config/index.js';
import { createTokens, jwtRegistrations, tokenKinds, type Tokens, type TokenKind } from '../tokens/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Issues and verifies access and refresh tokens through @fastify/jwt. */
    authTokens: Tokens;
  }
}

/** Names our @fastify/jwt namespaces so they never meet a host's own. */
const NAMESPACE_PREFIX = 'versionedAuth:';
/** @fastify/jwt's request decoration; ours is `request.user` (or its configured name), set by `authenticate`. */
const JWT_REQUEST_DECORATOR = 'versionedAuthJwtPayload';

/**
 * Registers @fastify/jwt once per key of each kind (access and refresh) and decorates
 * `authTokens`. Meant for an encapsulated context: @fastify/jwt's decorators stay there.
 */
export default fp<{ config: Pick<Config, 'jwt' | 'clock'> }>(
  async (app, { config }) => {
    const kinds = tokenKinds(config.jwt);
    const register = async (kind: TokenKind) => {
      const byKid = new Map<string, JWT>();
      for (const { kid, options } of jwtRegistrations(kind, NAMESPACE_PREFIX)) {
        await withoutCacheKeyWarning(() => app.register(fastifyJwt, { ...options, decoratorName: JWT_REQUEST_DECORATOR }));
        byKid.set(kid, (app.jwt as unknown as Record<string, JWT>)[options.namespace]!);
      }
      return byKid;
    };
    const access = await register(kinds.access);
    const refresh = await register(kinds.refresh);
    app.decorate('authTokens', createTokens(config, { access, refresh }));
  },
  { name: 'versioned-auth-tokens', fastify: '5.x' },
);

/**
 * fast-jwt warns (process.emitWarning) whenever a custom cache key is configured. Ours is
 * the whole token (see src/tokens/codec.ts), so the warning says nothing true about it and
 * would only teach operators to ignore warnings: it is dropped, and nothing else is.
 */
export async function withoutCacheKeyWarning<T>(work: () => PromiseLike<T>): Promise<T> {
  const emitWarning = process.emitWarning;
  process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]) {
    const options = rest[0] as { code?: string } | undefined;
    if (options?.code === 'FAST_JWT_CACHE_KEY_BUILDER_SECURITY_RISK') return;
    return (emitWarning as (...args: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    return await work();
  } finally {
    process.emitWarning = emitWarning;
  }
}
