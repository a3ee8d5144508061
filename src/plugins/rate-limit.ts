import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import { createLoginThrottle, type LoginThrottle } from '../auth/login-throttle.js';
import type { Config } from '../config/index.js';
import { HttpError } from '../http/errors.js';
import { rateLimitKey } from '../rate-limit/address-key.js';
import { createMemoryCounters, createRedisCounters, failOpen } from '../rate-limit/counters.js';

declare module 'fastify' {
  interface FastifyInstance {
    authRateLimit: {
      /** Failed-login limits; absent when RATE_LIMIT=off. */
      loginThrottle?: LoginThrottle;
      /** Registers the per-address limit in the calling scope (a no-op when RATE_LIMIT=off). */
      limitByAddress(scope: FastifyInstance): Promise<void>;
    };
  }
}

/** Requests per client address per minute on /auth/* and DELETE /me (all together). */
export const ADDRESS_LIMIT = { max: 100, timeWindow: 60_000 };

type RateLimitConfig = Pick<Config, 'rateLimit' | 'redisUrl' | 'redisKeyPrefix' | 'clock'>;

/**
 * Both limits' stores: in memory, or one Redis connection shared by every instance. The
 * per-address limit is registered by the scope it governs, so `GET /me` never pays for it.
 */
export default fp<{ config: RateLimitConfig }>(
  async (app, { config }) => {
    if (!config.rateLimit) {
      app.decorate('authRateLimit', { limitByAddress: async () => {} });
      return;
    }
    const redis = config.redisUrl ? await connectRedis(config.redisUrl, app) : undefined;
    const counters = redis ? createRedisCounters(redis, config.clock, config.redisKeyPrefix) : createMemoryCounters(config.clock);
    const storeFailed = (error: unknown) => app.log.warn({ err: error }, 'rate-limit store unavailable: not limiting');
    const refused = app.authInstruments?.recorder.rateLimited;
    app.decorate('authRateLimit', {
      loginThrottle: createLoginThrottle(failOpen(counters, config.clock, storeFailed), refused),
      limitByAddress: async (scope: FastifyInstance) => {
        await scope.register(rateLimit, {
          ...ADDRESS_LIMIT,
          // request.ip is the client's address as TRUST_PROXY yields it; IPv6 per /64.
          keyGenerator: (request) => rateLimitKey(request.ip),
          ...(redis ? { redis, nameSpace: `${config.redisKeyPrefix}address:` } : {}),
          skipOnError: true,
          errorResponseBuilder: (_request, context) => {
            refused?.('address');
            return new HttpError('rate_limited', 'Too many requests', Math.max(1, Math.ceil(context.ttl / 1000)));
          },
        });
      },
    });
  },
  { name: 'versioned-auth-rate-limit', fastify: '5.x' },
);

/**
 * One Redis connection for both limiters. Commands fail fast rather than queue while it is
 * down (the limiters then fail open); a server that starts while Redis is down starts
 * anyway and connects when Redis comes back.
 */
async function connectRedis(url: string, app: FastifyInstance): Promise<Redis> {
  // Loaded only with REDIS_URL: ioredis is about 2 MiB of heap an in-memory limiter never uses.
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { connectTimeout: 2000, maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
  redis.on('error', (error) => app.log.warn({ err: error }, 'redis connection error'));
  app.addHook('onClose', async () => {
    await redis.quit().catch(() => redis.disconnect());
  });
  await redis.connect().catch((error: unknown) => app.log.warn({ err: error }, 'redis unreachable at start'));
  return redis;
}
