import { generateKeyPairSync, randomUUID, type JsonWebKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSigner } from 'fast-jwt';
import Fastify, { type FastifyInstance } from 'fastify';
// By the package's name, as another service would import it: resolved through package.json "exports" to dist/.
import verifyPlugin, { type VerifyOptions } from 'versioned-auth/verify';
import { jwkThumbprint, type PublicJwk } from '../../src/tokens/jwk.js';
import { logCapture } from '../helper.js';

export const ISSUER = 'https://auth.example.test';
export const AUDIENCE = 'orders-api';

/** A signing key of a pretend auth service, generated per test run. */
export interface TestKey {
  kid: string;
  alg: 'EdDSA' | 'ES256';
  privatePem: string;
  publicPem: string;
  /** As the service publishes it: kty, crv, x (, y), kid, alg, use. */
  jwk: JsonWebKey;
}

/** A fresh Ed25519 (EdDSA) or P-256 (ES256) key pair, its kid the RFC 7638 thumbprint. */
export function generateKey(alg: 'EdDSA' | 'ES256'): TestKey {
  const { privateKey, publicKey } =
    alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const bare = publicKey.export({ format: 'jwk' });
  const kid = jwkThumbprint(bare as PublicJwk);
  return {
    kid,
    alg,
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    jwk: { ...bare, kid, alg, use: 'sig' },
  };
}

/** The contract's access-token claims, valid at `nowMs` for 15 minutes. */
export function accessClaims(nowMs: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = Math.floor(nowMs / 1000);
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: randomUUID(),
    sid: randomUUID(),
    email: 'someone@example.com',
    refreshTokenVersion: 0,
    iat,
    exp: iat + 900,
    jti: randomUUID(),
    ...overrides,
  };
}

/** Signs as the service does (fast-jwt): `alg` of the key, `typ: at+jwt`, `kid`. */
export function sign(key: TestKey, claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const signer = createSigner({ key: key.privatePem, algorithm: key.alg, header: { typ: 'at+jwt', kid: key.kid, ...header } as never });
  return signer(claims);
}

/** A JWKS endpoint whose keys, Cache-Control and failures a test sets; counts its requests. */
export interface JwksServer {
  url: string;
  keys: JsonWebKey[];
  cacheControl: string | undefined;
  /** Answer this status instead of the keys (500, say); undefined for a normal answer. */
  failWith: number | undefined;
  /** Holds every answer until `release()`; for requests that must overlap. */
  hold: boolean;
  release(): void;
  hits: number;
  close(): Promise<void>;
}

export async function startJwksServer(keys: JsonWebKey[]): Promise<JwksServer> {
  let waiting: (() => void)[] = [];
  const state = {
    keys,
    cacheControl: 'public, max-age=300' as string | undefined,
    failWith: undefined as number | undefined,
    hold: false,
    hits: 0,
  };
  const server: Server = createServer((_req, res) => {
    state.hits++;
    const answer = () => {
      if (state.failWith !== undefined) {
        res.statusCode = state.failWith;
        return res.end('{"message":"down"}');
      }
      res.setHeader('content-type', 'application/json');
      if (state.cacheControl !== undefined) res.setHeader('cache-control', state.cacheControl);
      res.end(JSON.stringify({ keys: state.keys }));
    };
    if (state.hold) waiting.push(answer);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  return Object.assign(state, {
    url,
    release() {
      state.hold = false;
      const now = waiting;
      waiting = [];
      for (const answer of now) answer();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

/** Another team's Fastify service: versioned-auth/verify and one guarded route echoing `request.user`. */
export async function resourceServer(options: VerifyOptions, level = 'info'): Promise<{ app: FastifyInstance; logs: string[] }> {
  const { lines, stream } = logCapture();
  const app = Fastify({ logger: { level, stream } });
  await app.register(verifyPlugin, options);
  app.get('/orders', { onRequest: app.authenticate }, async (request) => ({ user: request.user }));
  await app.ready();
  return { app, logs: lines };
}

/** GET /orders with `token` as the Bearer credential. */
export const orders = (app: FastifyInstance, token: string) =>
  app.inject({ method: 'GET', url: '/orders', headers: { authorization: `Bearer ${token}` } });
