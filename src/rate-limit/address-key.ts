import { normalizeIP } from '@fastify/rate-limit';

/** A single IPv6 host is usually given a whole /64, and an address per request from it costs nothing. */
export const IPV6_PREFIX_LENGTH = 64;

/**
 * The key a client address (`request.ip`) is rate limited under, by every limiter: an IPv4
 * address as it is, an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as its IPv4 address, an
 * IPv6 address as the start of its /64 (`2001:db8:1:2::`), its zone id dropped; anything
 * else (empty, malformed) lower-cased. @fastify/rate-limit's own normalisation, so both
 * limiters agree with the per-address one.
 */
export function rateLimitKey(ip: string): string {
  return normalizeIP(ip, IPV6_PREFIX_LENGTH);
}
