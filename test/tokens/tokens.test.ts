import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/index.js';
import { AuthError } from '../../src/errors.js';
import type { ErrorCode } from '../../src/http/errors.js';
import { ACCESS_CACHE_SIZE, CLOCK_SKEW_SECONDS, MAX_TOKEN_LENGTH, type Tokens } from '../../src/tokens/index.js';
import { ACCESS_SECRET, REFRESH_SECRET, createTestTokens, decodeJwt, testClock, testConfig, type TestClock } from '../helper.js';
import { b64, flip } from '../support/jwt.js';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISSUER = 'versioned-auth';
const AUDIENCE = 'versioned-auth';
const REFRESH_AUDIENCE = `${AUDIENCE}:refresh`;

/** Asserts that `fn` throws an AuthError carrying exactly `code` (and does not return). */
function expectAuthError(fn: () => unknown, code: ErrorCode): void {
  let caught: unknown;
  let returned: unknown;
  try {
    returned = fn();
  } catch (error) {
    caught = error;
  }
  if (caught === undefined) {
    throw new Error(`expected AuthError '${code}', but it returned ${JSON.stringify(returned)}`);
  }
  expect(caught, String(caught)).toBeInstanceOf(AuthError);
  expect((caught as AuthError).code).toBe(code);
}

/** Tokens exactly as the plugin builds them: @fastify/jwt namespaces per key. */
async function setup(jwt: Partial<Config['jwt']> = {}, clock: TestClock = testClock()) {
  const base = testConfig({ clock });
  const config = testConfig({ clock, jwt: { ...base.jwt, ...jwt } });
  return { clock, config, tokens: await createTestTokens(config) };
}

function session() {
  return {
    userId: randomUUID(),
    sessionId: randomUUID(),
    refreshTokenVersion: 3,
    email: 'alice@example.com',
  };
}

function issueBoth(tokens: Tokens, clock: TestClock, refreshTtlSeconds = 30 * 86400) {
  const s = session();
  const refreshJti = randomUUID();
  const expiresAt = clock.now() + refreshTtlSeconds * 1000 + 750; // a fraction of a second on purpose
  const access = tokens.issueAccess(s);
  const refresh = tokens.issueRefresh({ ...s, jti: refreshJti, expiresAt });
  return { s, refreshJti, expiresAt, access, refresh };
}

const hmac = (hash: 'sha256' | 'sha384' | 'sha512', secret: string, input: string) =>
  createHmac(hash, secret).update(input).digest('base64url');

type Json = Record<string, unknown>;

interface Forge {
  /** Merged over the baseline header; a key set to `undefined` is dropped. */
  header?: Json;
  /** Merged over the baseline payload; a key set to `undefined` is dropped. */
  payload?: Json;
  /** Raw JSON text used instead of the (merged) payload. */
  rawPayload?: string;
  /** Raw JSON text used instead of the (merged) header. */
  rawHeader?: string;
  secret?: string;
  hash?: 'sha256' | 'sha384' | 'sha512';
  /** Leave the signature segment empty. */
  unsigned?: boolean;
}

// One shared, never-advanced instance for the hostile tables.
const shared = await setup();
const { tokens } = shared;
const NOW = Math.floor(shared.clock.now() / 1000);
const sample = issueBoth(tokens, shared.clock);
const ACCESS_KID = decodeJwt(sample.access).header.kid as string;
const REFRESH_KID = decodeJwt(sample.refresh).header.kid as string;

function accessBaseline(): { header: Json; payload: Json } {
  return {
    header: { alg: 'HS256', typ: 'at+jwt', kid: ACCESS_KID },
    payload: {
      iss: ISSUER,
      aud: AUDIENCE,
      sub: randomUUID(),
      sid: randomUUID(),
      email: 'mallory@example.com',
      refreshTokenVersion: 0,
      iat: NOW,
      exp: NOW + 900,
      jti: randomUUID(),
    },
  };
}

function refreshBaseline(): { header: Json; payload: Json } {
  return {
    header: { alg: 'HS256', typ: 'rt+jwt', kid: REFRESH_KID },
    payload: {
      iss: ISSUER,
      aud: REFRESH_AUDIENCE,
      sub: randomUUID(),
      sid: randomUUID(),
      refreshTokenVersion: 0,
      iat: NOW,
      exp: NOW + 86400,
      jti: randomUUID(),
    },
  };
}

/**
 * Header fields in reverse order: not the form we issue, so verification takes fast-jwt's
 * general path instead of the issued-form fast path. The hostile table runs both ways.
 */
let reverseHeader = false;

function forge(kind: 'access' | 'refresh', options: Forge = {}): string {
  const base = kind === 'access' ? accessBaseline() : refreshBaseline();
  const header = { ...base.header, ...options.header };
  const headerText = options.rawHeader ?? JSON.stringify(reverseHeader ? Object.fromEntries(Object.entries(header).reverse()) : header);
  const payloadText = options.rawPayload ?? JSON.stringify({ ...base.payload, ...options.payload });
  const input = `${b64(headerText)}.${b64(payloadText)}`;
  if (options.unsigned) return `${input}.`;
  const secret = options.secret ?? (kind === 'access' ? ACCESS_SECRET : REFRESH_SECRET);
  return `${input}.${hmac(options.hash ?? 'sha256', secret, input)}`;
}

const forgeAccess = (options: Forge = {}) => forge('access', options);

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The token with the 2 unused low bits of its signature's last character set to `unused`: the same MAC, spelled differently. */
function respell(token: string, unused: number): string {
  const last = BASE64URL_ALPHABET.indexOf(token.at(-1)!);
  const respelled = token.slice(0, -1) + BASE64URL_ALPHABET[(last & ~3) | unused];
  expect(Buffer.from(respelled.split('.')[2]!, 'base64url')).toEqual(Buffer.from(token.split('.')[2]!, 'base64url'));
  return respelled;
}

/** Our access token with its payload segment changed by `edit`, then validly signed. */
function resignedPayload(edit: (segment: string) => string): string {
  const [header, payload] = forgeAccess().split('.') as [string, string];
  const input = `${header}.${edit(payload)}`;
  return `${input}.${hmac('sha256', ACCESS_SECRET, input)}`;
}
const forgeRefresh = (options: Forge = {}) => forge('refresh', options);

/** A validly signed access token of exactly `length` characters (padded with an extra claim). */
function accessTokenOfLength(length: number): string {
  for (let extra = 0; extra < 4; extra++) {
    // The payload grows by 4/3 of the pad, so start a little below the target.
    for (let pad = Math.max(0, Math.floor((length * 3) / 4) - 400); pad < length; pad++) {
      const token = forgeAccess({ header: { x: 'y'.repeat(extra) }, payload: { pad: 'p'.repeat(pad) } });
      if (token.length === length) return token;
      if (token.length > length) break;
    }
  }
  throw new Error(`cannot build a token of length ${length}`);
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe('createTokens: issued tokens', () => {
  it('issues an access token whose header is exactly {alg: HS256, typ: at+jwt, kid}', () => {
    const { header } = decodeJwt(sample.access);
    expect(header).toStrictEqual({ alg: 'HS256', typ: 'at+jwt', kid: expect.any(String) });
    expect(Object.keys(header).sort()).toEqual(['alg', 'kid', 'typ']);
    expect(header.kid).not.toBe('');
  });

  it('issues an access token carrying exactly the contract claims, timed by the injected clock', async () => {
    const { clock, tokens: t } = await setup();
    clock.advance(1234);
    const s = session();
    const { payload } = decodeJwt(t.issueAccess(s));
    expect(Object.keys(payload).sort()).toEqual(
      ['iss', 'aud', 'sub', 'sid', 'email', 'refreshTokenVersion', 'iat', 'exp', 'jti'].sort(),
    );
    const iat = Math.floor(clock.now() / 1000);
    expect(payload).toStrictEqual({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: s.userId,
      sid: s.sessionId,
      email: s.email,
      refreshTokenVersion: s.refreshTokenVersion,
      iat,
      exp: iat + 900,
      jti: expect.stringMatching(UUID),
    });
    expect(t.accessTtl).toBe(900);
    expect(payload.exp).toBe((payload.iat as number) + t.accessTtl);
  });

  it('gives every access token its own jti', () => {
    const s = session();
    const a = decodeJwt(tokens.issueAccess(s)).payload.jti;
    const b = decodeJwt(tokens.issueAccess(s)).payload.jti;
    expect(a).not.toBe(b);
  });

  it('issues a refresh token with typ rt+jwt and exactly the contract claims', () => {
    const { header, payload } = decodeJwt(sample.refresh);
    expect(header).toStrictEqual({ alg: 'HS256', typ: 'rt+jwt', kid: expect.any(String) });
    expect(Object.keys(payload).sort()).toEqual(
      ['iss', 'aud', 'sub', 'sid', 'refreshTokenVersion', 'iat', 'exp', 'jti'].sort(),
    );
    expect(payload).toStrictEqual({
      iss: ISSUER,
      aud: REFRESH_AUDIENCE,
      sub: sample.s.userId,
      sid: sample.s.sessionId,
      refreshTokenVersion: sample.s.refreshTokenVersion,
      iat: NOW,
      exp: Math.floor(sample.expiresAt / 1000),
      jti: sample.refreshJti,
    });
  });

  it('signs access and refresh tokens under different kids', () => {
    expect(ACCESS_KID).not.toBe(REFRESH_KID);
  });
});

describe('createTokens: verification round-trips', () => {
  it('verifyAccess returns the claims of an issued access token', () => {
    const claims = tokens.verifyAccess(sample.access);
    expect(claims).toStrictEqual(decodeJwt(sample.access).payload);
    expect(claims.sub).toBe(sample.s.userId);
    expect(claims.sid).toBe(sample.s.sessionId);
    expect(claims.email).toBe(sample.s.email);
    expect(claims.refreshTokenVersion).toBe(sample.s.refreshTokenVersion);
  });

  it('verifyRefresh returns the claims of an issued refresh token', () => {
    const claims = tokens.verifyRefresh(sample.refresh);
    expect(claims).toStrictEqual(decodeJwt(sample.refresh).payload);
    expect(claims.jti).toBe(sample.refreshJti);
    expect(claims.aud).toBe(REFRESH_AUDIENCE);
  });

  it('accepts the hand-built baselines the hostile tables start from', () => {
    // Every hostile row changes one thing from these; they must be valid on their own.
    // Their header is byte for byte the one we issue: the issued-form path decides them.
    expect(forgeAccess().split('.')[0]).toBe(sample.access.split('.')[0]);
    expect(forgeRefresh().split('.')[0]).toBe(sample.refresh.split('.')[0]);
    expect(tokens.verifyAccess(forgeAccess()).iss).toBe(ISSUER);
    expect(tokens.verifyRefresh(forgeRefresh()).aud).toBe(REFRESH_AUDIENCE);
    expect(tokens.verifyAccess(accessTokenOfLength(MAX_TOKEN_LENGTH)).iss).toBe(ISSUER);
  });
});

interface Row {
  name: string;
  make: () => string;
  code: ErrorCode;
  /** Which verifier is called; access unless said. */
  via?: 'access' | 'refresh';
}

const NONE_SPELLINGS = ['none', 'None', 'NONE', 'nOnE'];

const hostileRows: Row[] = [
  // alg
  ...NONE_SPELLINGS.flatMap((alg): Row[] => [
    { name: `alg ${alg} without signature`, make: () => forgeAccess({ header: { alg }, unsigned: true }), code: 'token_invalid' },
    { name: `alg ${alg} with a signature`, make: () => forgeAccess({ header: { alg } }), code: 'token_invalid' },
    {
      name: `alg ${alg} without signature (refresh)`,
      make: () => forgeRefresh({ header: { alg }, unsigned: true }),
      code: 'token_invalid',
      via: 'refresh',
    },
  ]),
  { name: 'alg HS512 signed with our secret', make: () => forgeAccess({ header: { alg: 'HS512' }, hash: 'sha512' }), code: 'token_invalid' },
  { name: 'alg HS384 signed with our secret', make: () => forgeAccess({ header: { alg: 'HS384' }, hash: 'sha384' }), code: 'token_invalid' },
  {
    name: 'alg HS512 signed with our secret (refresh)',
    make: () => forgeRefresh({ header: { alg: 'HS512' }, hash: 'sha512' }),
    code: 'token_invalid',
    via: 'refresh',
  },
  { name: 'alg header missing', make: () => forgeAccess({ header: { alg: undefined } }), code: 'token_invalid' },
  // typ
  { name: 'typ missing on access', make: () => forgeAccess({ header: { typ: undefined } }), code: 'token_invalid' },
  { name: 'typ JWT on access', make: () => forgeAccess({ header: { typ: 'JWT' } }), code: 'token_invalid' },
  { name: 'typ rt+jwt on access', make: () => forgeAccess({ header: { typ: 'rt+jwt' } }), code: 'token_invalid' },
  { name: 'typ at+jwt on refresh', make: () => forgeRefresh({ header: { typ: 'at+jwt' } }), code: 'token_invalid', via: 'refresh' },
  { name: 'typ missing on refresh', make: () => forgeRefresh({ header: { typ: undefined } }), code: 'token_invalid', via: 'refresh' },
  // iss / aud
  { name: 'wrong iss', make: () => forgeAccess({ payload: { iss: 'someone-else' } }), code: 'token_invalid' },
  { name: 'iss missing', make: () => forgeAccess({ payload: { iss: undefined } }), code: 'token_invalid' },
  { name: 'wrong iss (refresh)', make: () => forgeRefresh({ payload: { iss: 'someone-else' } }), code: 'token_invalid', via: 'refresh' },
  { name: 'wrong aud', make: () => forgeAccess({ payload: { aud: 'another-api' } }), code: 'token_invalid' },
  { name: 'aud missing', make: () => forgeAccess({ payload: { aud: undefined } }), code: 'token_invalid' },
  { name: 'the refresh aud on an access token', make: () => forgeAccess({ payload: { aud: REFRESH_AUDIENCE } }), code: 'token_invalid' },
  { name: 'the access aud on a refresh token', make: () => forgeRefresh({ payload: { aud: AUDIENCE } }), code: 'token_invalid', via: 'refresh' },
  // wrong kind
  { name: 'an issued access token given to verifyRefresh', make: () => sample.access, code: 'token_invalid', via: 'refresh' },
  { name: 'an issued refresh token given to verifyAccess', make: () => sample.refresh, code: 'token_invalid' },
  // tampering
  { name: 'a flipped character in the header', make: () => flip(sample.access, 0), code: 'token_invalid' },
  { name: 'a flipped character in the payload', make: () => flip(sample.access, 1), code: 'token_invalid' },
  { name: 'a flipped character in the signature', make: () => flip(sample.access, 2), code: 'token_invalid' },
  { name: 'a flipped character in the refresh signature', make: () => flip(sample.refresh, 2), code: 'token_invalid', via: 'refresh' },
  { name: 'signature removed (trailing dot kept)', make: () => sample.access.split('.').slice(0, 2).join('.') + '.', code: 'token_invalid' },
  { name: 'signature removed (refresh)', make: () => sample.refresh.split('.').slice(0, 2).join('.') + '.', code: 'token_invalid', via: 'refresh' },
  // structure
  { name: 'empty string', make: () => '', code: 'token_invalid' },
  { name: '1 segment', make: () => sample.access.split('.')[0] ?? '', code: 'token_invalid' },
  { name: '2 segments', make: () => sample.access.split('.').slice(0, 2).join('.'), code: 'token_invalid' },
  { name: '4 segments', make: () => `${sample.access}.${sample.access.split('.')[2]}`, code: 'token_invalid' },
  { name: '4 segments (trailing dot)', make: () => `${sample.access}.`, code: 'token_invalid' },
  { name: '5 segments', make: () => `${sample.access}.AAAA.BBBB`, code: 'token_invalid' },
  { name: 'leading space', make: () => ` ${sample.access}`, code: 'token_invalid' },
  { name: 'trailing space', make: () => `${sample.access} `, code: 'token_invalid' },
  { name: 'trailing newline', make: () => `${sample.access}\n`, code: 'token_invalid' },
  { name: 'leading tab', make: () => `\t${sample.access}`, code: 'token_invalid' },
  { name: 'space before and after (refresh)', make: () => ` ${sample.refresh} `, code: 'token_invalid', via: 'refresh' },
  // kid
  { name: 'unknown kid', make: () => forgeAccess({ header: { kid: 'AAAAAAAAAAAAAAAA' } }), code: 'token_invalid' },
  { name: 'kid missing', make: () => forgeAccess({ header: { kid: undefined } }), code: 'token_invalid' },
  { name: 'kid ../../dev/null', make: () => forgeAccess({ header: { kid: '../../dev/null' } }), code: 'token_invalid' },
  { name: "kid ' OR 1=1 --", make: () => forgeAccess({ header: { kid: "' OR 1=1 --" } }), code: 'token_invalid' },
  { name: 'kid __proto__', make: () => forgeAccess({ header: { kid: '__proto__' } }), code: 'token_invalid' },
  { name: 'kid a number', make: () => forgeAccess({ header: { kid: 1 } }), code: 'token_invalid' },
  { name: 'the refresh kid on an access token signed with the refresh secret', make: () => forgeAccess({ header: { kid: REFRESH_KID }, secret: REFRESH_SECRET }), code: 'token_invalid' },
  // crit
  { name: 'a crit header naming an unknown extension', make: () => forgeAccess({ header: { crit: ['x-ext'], 'x-ext': true } }), code: 'token_invalid' },
  { name: 'a crit header b64=false', make: () => forgeAccess({ header: { crit: ['b64'], b64: false } }), code: 'token_invalid' },
  // header / payload JSON shape
  { name: 'header that is a JSON array', make: () => forgeAccess({ rawHeader: '[]' }), code: 'token_invalid' },
  { name: 'payload that is a JSON array', make: () => forgeAccess({ rawPayload: JSON.stringify([accessBaseline().payload]) }), code: 'token_invalid' },
  { name: 'payload that is a JSON string', make: () => forgeAccess({ rawPayload: '"hello"' }), code: 'token_invalid' },
  { name: 'payload that is null', make: () => forgeAccess({ rawPayload: 'null' }), code: 'token_invalid' },
  { name: 'payload that is not JSON', make: () => forgeAccess({ rawPayload: '{"sub":' }), code: 'token_invalid' },
  // characters outside base64url, validly signed: Buffer.from would skip them
  { name: 'payload segment with = padding', make: () => resignedPayload((p) => `${p}=`), code: 'token_invalid' },
  { name: 'payload segment with a space inside', make: () => resignedPayload((p) => `${p.slice(0, 8)} ${p.slice(8)}`), code: 'token_invalid' },
  { name: 'payload segment in base64 with + and /', make: () => resignedPayload((p) => `${p}+/`), code: 'token_invalid' },
  { name: 'signature with = padding', make: () => `${forgeAccess()}=`, code: 'token_invalid' },
  // 43 characters carry 256 bits and 2 unused ones: the same MAC has 4 spellings, only one is ours
  ...[1, 2, 3].map((unused): Row => ({
    name: `signature whose last character sets unused bits (${unused})`,
    make: () => respell(forgeAccess(), unused),
    code: 'token_invalid',
  })),
  { name: 'signature of the refresh token respelled', make: () => respell(forgeRefresh(), 1), code: 'token_invalid', via: 'refresh' },
  { name: 'signature with a trailing space', make: () => `${forgeAccess()} `, code: 'token_invalid' },
  // sub / sid / jti / email
  { name: 'sub missing', make: () => forgeAccess({ payload: { sub: undefined } }), code: 'token_invalid' },
  { name: 'sub empty', make: () => forgeAccess({ payload: { sub: '' } }), code: 'token_invalid' },
  { name: 'sub a number', make: () => forgeAccess({ payload: { sub: 12345 } }), code: 'token_invalid' },
  { name: 'sub not a UUID', make: () => forgeAccess({ payload: { sub: 'admin' } }), code: 'token_invalid' },
  { name: 'sub a UUID with SQL appended', make: () => forgeAccess({ payload: { sub: `${randomUUID()}' OR 1=1 --` } }), code: 'token_invalid' },
  { name: 'sub not a UUID (refresh)', make: () => forgeRefresh({ payload: { sub: 'admin' } }), code: 'token_invalid', via: 'refresh' },
  { name: 'sid not a UUID', make: () => forgeAccess({ payload: { sid: 'session-1' } }), code: 'token_invalid' },
  { name: 'sid missing', make: () => forgeAccess({ payload: { sid: undefined } }), code: 'token_invalid' },
  { name: 'sid not a UUID (refresh)', make: () => forgeRefresh({ payload: { sid: 'session-1' } }), code: 'token_invalid', via: 'refresh' },
  { name: 'jti not a UUID', make: () => forgeAccess({ payload: { jti: 'x' } }), code: 'token_invalid' },
  { name: 'jti missing (refresh)', make: () => forgeRefresh({ payload: { jti: undefined } }), code: 'token_invalid', via: 'refresh' },
  { name: 'email missing', make: () => forgeAccess({ payload: { email: undefined } }), code: 'token_invalid' },
  { name: 'email a number', make: () => forgeAccess({ payload: { email: 42 } }), code: 'token_invalid' },
  // refreshTokenVersion
  { name: 'refreshTokenVersion negative', make: () => forgeAccess({ payload: { refreshTokenVersion: -1 } }), code: 'token_invalid' },
  { name: 'refreshTokenVersion a string', make: () => forgeAccess({ payload: { refreshTokenVersion: '3' } }), code: 'token_invalid' },
  { name: 'refreshTokenVersion 1.5', make: () => forgeAccess({ payload: { refreshTokenVersion: 1.5 } }), code: 'token_invalid' },
  { name: 'refreshTokenVersion missing', make: () => forgeAccess({ payload: { refreshTokenVersion: undefined } }), code: 'token_invalid' },
  { name: 'refreshTokenVersion negative (refresh)', make: () => forgeRefresh({ payload: { refreshTokenVersion: -1 } }), code: 'token_invalid', via: 'refresh' },
  { name: 'refreshTokenVersion a string (refresh)', make: () => forgeRefresh({ payload: { refreshTokenVersion: '0' } }), code: 'token_invalid', via: 'refresh' },
  { name: 'refreshTokenVersion 1.5 (refresh)', make: () => forgeRefresh({ payload: { refreshTokenVersion: 1.5 } }), code: 'token_invalid', via: 'refresh' },
  // users.refresh_token_version is a PostgreSQL integer: a larger value must not reach a query.
  { name: 'refreshTokenVersion 2^31 (refresh)', make: () => forgeRefresh({ payload: { refreshTokenVersion: 2 ** 31 } }), code: 'token_invalid', via: 'refresh' },
  { name: 'aud an array containing ours', make: () => forgeAccess({ payload: { aud: ['versioned-auth', 'other'] } }), code: 'token_invalid' },
  // times
  { name: 'exp missing', make: () => forgeAccess({ payload: { exp: undefined } }), code: 'token_invalid' },
  { name: 'exp missing (refresh)', make: () => forgeRefresh({ payload: { exp: undefined } }), code: 'token_invalid', via: 'refresh' },
  { name: 'exp a string', make: () => forgeAccess({ payload: { exp: String(NOW + 900) } }), code: 'token_invalid' },
  { name: 'iat missing', make: () => forgeAccess({ payload: { iat: undefined } }), code: 'token_invalid' },
  { name: 'nbf 31 s in the future', make: () => forgeAccess({ payload: { nbf: NOW + CLOCK_SKEW_SECONDS + 1 } }), code: 'token_invalid' },
  { name: 'nbf a day in the future', make: () => forgeAccess({ payload: { nbf: NOW + 86400 } }), code: 'token_invalid' },
  { name: 'nbf a string', make: () => forgeAccess({ payload: { nbf: String(NOW) } }), code: 'token_invalid' },
  { name: 'iat 31 s in the future', make: () => forgeAccess({ payload: { iat: NOW + CLOCK_SKEW_SECONDS + 1 } }), code: 'token_invalid' },
  { name: 'iat a day in the future', make: () => forgeAccess({ payload: { iat: NOW + 86400 } }), code: 'token_invalid' },
  { name: 'iat 31 s in the future (refresh)', make: () => forgeRefresh({ payload: { iat: NOW + CLOCK_SKEW_SECONDS + 1 } }), code: 'token_invalid', via: 'refresh' },
  // size
  { name: `a token of ${MAX_TOKEN_LENGTH + 1} characters`, make: () => accessTokenOfLength(MAX_TOKEN_LENGTH + 1), code: 'token_invalid' },
  { name: 'a token of 100 000 characters', make: () => forgeAccess({ payload: { pad: 'p'.repeat(75_000) } }), code: 'token_invalid' },
  // keys
  { name: 'an access token signed with the refresh secret', make: () => forgeAccess({ secret: REFRESH_SECRET }), code: 'token_invalid' },
  { name: 'a refresh token signed with the access secret', make: () => forgeRefresh({ secret: ACCESS_SECRET }), code: 'token_invalid', via: 'refresh' },
  { name: 'an access token signed with an unknown secret', make: () => forgeAccess({ secret: 'not-our-secret-0123456789abcdef0123456' }), code: 'token_invalid' },
];

describe('createTokens: hostile tokens are refused', () => {
  it.each(hostileRows)('refuses $name', ({ make, code, via }) => {
    const token = make();
    const verify = via === 'refresh' ? tokens.verifyRefresh : tokens.verifyAccess;
    expectAuthError(() => verify(token), code);
  });

  describe('with the header fields in reverse order (fast-jwt decides, not the issued-form fast path)', () => {
    beforeAll(() => {
      reverseHeader = true;
    });
    afterAll(() => {
      reverseHeader = false;
    });

    it('accepts the reordered baselines, so each row below is refused for its own change', () => {
      const access = forgeAccess();
      expect(decodeJwt(access).header).toEqual({ kid: ACCESS_KID, typ: 'at+jwt', alg: 'HS256' });
      expect(access.split('.')[0]).not.toBe(sample.access.split('.')[0]);
      expect(tokens.verifyAccess(access).iss).toBe(ISSUER);
      expect(tokens.verifyRefresh(forgeRefresh()).aud).toBe(REFRESH_AUDIENCE);
    });

    it.each(hostileRows)('refuses $name', ({ make, code, via }) => {
      const token = make();
      const verify = via === 'refresh' ? tokens.verifyRefresh : tokens.verifyAccess;
      expectAuthError(() => verify(token), code);
    });
  });
});

describe('createTokens: duplicate claim keys', () => {
  /** The baseline access payload with `sub` written twice, first `first`, then `last`. */
  const twoSubs = (first: string, last: string) => {
    const { sub: _ignored, ...rest } = accessBaseline().payload;
    const body = JSON.stringify(rest).slice(1, -1);
    return `{"sub":${JSON.stringify(first)},${body},"sub":${JSON.stringify(last)}}`;
  };

  it('uses the last sub, as JSON.parse reads it', () => {
    const first = randomUUID();
    const last = randomUUID();
    const rawPayload = twoSubs(first, last);
    expect(rawPayload.match(/"sub"/g)).toHaveLength(2);
    expect(tokens.verifyAccess(forgeAccess({ rawPayload })).sub).toBe(last);
  });

  it('accepts an invalid first sub when the last one is a UUID (the first is never read)', () => {
    const last = randomUUID();
    expect(tokens.verifyAccess(forgeAccess({ rawPayload: twoSubs('admin', last) })).sub).toBe(last);
  });

  it('refuses a valid first sub followed by an invalid last one', () => {
    expectAuthError(() => tokens.verifyAccess(forgeAccess({ rawPayload: twoSubs(randomUUID(), 'admin') })), 'token_invalid');
  });
});

describe('createTokens: time, with the injected clock', () => {
  it('accepts an access token up to exp + 29 s and calls it expired from exp + 30 s', async () => {
    const { clock, tokens: t } = await setup();
    const token = t.issueAccess(session());
    const exp = decodeJwt(token).payload.exp as number;
    clock.advance(exp - Math.floor(clock.now() / 1000)); // exactly exp
    expect(t.verifyAccess(token).exp).toBe(exp);
    clock.advance(CLOCK_SKEW_SECONDS - 1); // exp + 29
    expect(t.verifyAccess(token).exp).toBe(exp);
    clock.advance(1); // exp + 30
    expectAuthError(() => t.verifyAccess(token), 'token_expired');
    clock.advance(1); // exp + 31
    expectAuthError(() => t.verifyAccess(token), 'token_expired');
    clock.advance(365 * 86400);
    expectAuthError(() => t.verifyAccess(token), 'token_expired');
  });

  it('accepts a refresh token up to its session expiry + 29 s and calls it expired from + 30 s', async () => {
    const { clock, tokens: t } = await setup();
    const { refresh, expiresAt } = issueBoth(t, clock, 7 * 86400);
    const exp = Math.floor(expiresAt / 1000);
    clock.advance(exp + CLOCK_SKEW_SECONDS - 1 - Math.floor(clock.now() / 1000)); // exp + 29
    expect(t.verifyRefresh(refresh).exp).toBe(exp);
    clock.advance(1); // exp + 30
    expectAuthError(() => t.verifyRefresh(refresh), 'token_expired');
    clock.advance(86400);
    expectAuthError(() => t.verifyRefresh(refresh), 'token_expired');
  });

  it('uses the exp claim, not the access TTL, for a hand-built token', async () => {
    const { clock, tokens: t } = await setup();
    const now = Math.floor(clock.now() / 1000);
    const token = forgeAccess({ payload: { iat: now, exp: now + 10 } });
    clock.advance(10 + CLOCK_SKEW_SECONDS - 1);
    expect(() => t.verifyAccess(token)).not.toThrow();
    clock.advance(1);
    expectAuthError(() => t.verifyAccess(token), 'token_expired');
  });

  it('refuses an expired token with a broken signature as invalid, not expired', async () => {
    const { clock, tokens: t } = await setup();
    const token = t.issueAccess(session());
    clock.advance(900 + CLOCK_SKEW_SECONDS + 60);
    expectAuthError(() => t.verifyAccess(token), 'token_expired');
    expectAuthError(() => t.verifyAccess(flip(token, 2)), 'token_invalid');
  });

  it('accepts nbf and iat up to 30 s in the future (skew) and refuses 31 s', async () => {
    const { clock, tokens: t } = await setup();
    const now = Math.floor(clock.now() / 1000);
    expect(() => t.verifyAccess(forgeAccess({ payload: { nbf: now + 20 } }))).not.toThrow();
    expect(() => t.verifyAccess(forgeAccess({ payload: { nbf: now + CLOCK_SKEW_SECONDS } }))).not.toThrow();
    expect(() => t.verifyAccess(forgeAccess({ payload: { iat: now + 20 } }))).not.toThrow();
    expect(() => t.verifyAccess(forgeAccess({ payload: { iat: now + CLOCK_SKEW_SECONDS } }))).not.toThrow();
    expectAuthError(() => t.verifyAccess(forgeAccess({ payload: { nbf: now + CLOCK_SKEW_SECONDS + 1 } })), 'token_invalid');
    expectAuthError(() => t.verifyAccess(forgeAccess({ payload: { iat: now + CLOCK_SKEW_SECONDS + 1 } })), 'token_invalid');
  });

  it('accepts a token whose nbf was too far ahead once the clock has caught up', async () => {
    const { clock, tokens: t } = await setup();
    const now = Math.floor(clock.now() / 1000);
    const token = forgeAccess({ payload: { nbf: now + 120 } });
    expectAuthError(() => t.verifyAccess(token), 'token_invalid');
    clock.advance(120 - CLOCK_SKEW_SECONDS);
    expect(() => t.verifyAccess(token)).not.toThrow();
  });

  it('stamps iat from the injected clock, not the system clock', async () => {
    const { clock, tokens: t } = await setup();
    clock.advance(86400 * 3 + 7);
    const { access, refresh } = issueBoth(t, clock);
    const now = Math.floor(clock.now() / 1000);
    expect(decodeJwt(access).payload.iat).toBe(now);
    expect(decodeJwt(refresh).payload.iat).toBe(now);
  });
});

describe('createTokens: key rotation', () => {
  const NEW_ACCESS = 'new-access-secret-for-tests-fedcba9876543210';
  const NEW_REFRESH = 'new-refresh-secret-for-tests-fedcba9876543210';

  it('still verifies a token signed under [old] once the ring is [new, old]; new tokens carry the new kid', async () => {
    const clock = testClock();
    const before = (await setup({ accessSecrets: [ACCESS_SECRET], refreshSecrets: [REFRESH_SECRET] }, clock)).tokens;
    const old = issueBoth(before, clock);
    const oldAccessKid = decodeJwt(old.access).header.kid;
    const oldRefreshKid = decodeJwt(old.refresh).header.kid;

    const rotated = (await setup({ accessSecrets: [NEW_ACCESS, ACCESS_SECRET], refreshSecrets: [NEW_REFRESH, REFRESH_SECRET] }, clock)).tokens;
    expect(rotated.verifyAccess(old.access).sub).toBe(old.s.userId);
    expect(rotated.verifyRefresh(old.refresh).jti).toBe(old.refreshJti);

    const fresh = issueBoth(rotated, clock);
    const newAccessKid = decodeJwt(fresh.access).header.kid;
    const newRefreshKid = decodeJwt(fresh.refresh).header.kid;
    expect(newAccessKid).not.toBe(oldAccessKid);
    expect(newRefreshKid).not.toBe(oldRefreshKid);
    expect(newAccessKid).not.toBe(newRefreshKid);
    expect(rotated.verifyAccess(fresh.access).sub).toBe(fresh.s.userId);
    expect(rotated.verifyRefresh(fresh.refresh).jti).toBe(fresh.refreshJti);

    // An instance still on [old] does not know the new kid.
    expectAuthError(() => before.verifyAccess(fresh.access), 'token_invalid');
  });

  it('refuses a token signed under [old] once the ring is [new] alone', async () => {
    const clock = testClock();
    const before = (await setup({ accessSecrets: [ACCESS_SECRET], refreshSecrets: [REFRESH_SECRET] }, clock)).tokens;
    const old = issueBoth(before, clock);
    const after = (await setup({ accessSecrets: [NEW_ACCESS], refreshSecrets: [NEW_REFRESH] }, clock)).tokens;
    expectAuthError(() => after.verifyAccess(old.access), 'token_invalid');
    expectAuthError(() => after.verifyRefresh(old.refresh), 'token_invalid');
  });

  it('refuses a token carrying the new kid but signed with the old secret', async () => {
    const clock = testClock();
    const rotated = (await setup({ accessSecrets: [NEW_ACCESS, ACCESS_SECRET] }, clock)).tokens;
    const newKid = decodeJwt(rotated.issueAccess(session())).header.kid;
    expectAuthError(() => rotated.verifyAccess(forgeAccess({ header: { kid: newKid }, secret: ACCESS_SECRET })), 'token_invalid');
  });
});

describe("createTokens: fast-jwt's cache of verified access tokens, keyed by the whole token", () => {
  it('hands back the same frozen claims for the same token, and still checks its times on every call', async () => {
    const { tokens, clock } = await setup();
    const { access } = issueBoth(tokens, clock);
    const first = tokens.verifyAccess(access);
    expect(tokens.verifyAccess(access)).toBe(first); // a cache hit
    expect(Object.isFrozen(first)).toBe(true);
    clock.advance(900 + 30);
    expectAuthError(() => tokens.verifyAccess(access), 'token_expired');
  });

  it('never answers for a string it did not verify: a one-character change is checked and refused', async () => {
    const { tokens, clock } = await setup();
    const { access } = issueBoth(tokens, clock);
    tokens.verifyAccess(access);
    for (const segment of [0, 1, 2]) expectAuthError(() => tokens.verifyAccess(flip(access, segment)), 'token_invalid');
    expectAuthError(() => tokens.verifyAccess(`${access} `), 'token_invalid');
  });

  it('does not remember a refusal: a validly signed token of the wrong shape is refused on every call', async () => {
    const { tokens } = await setup();
    const token = forgeAccess({ payload: { sub: 'admin' } });
    for (let i = 0; i < 3; i++) expectAuthError(() => tokens.verifyAccess(token), 'token_invalid');
  });

  it(`stays bounded at ${ACCESS_CACHE_SIZE} tokens and keeps verifying correctly past it`, async () => {
    const { tokens, clock } = await setup();
    const first = issueBoth(tokens, clock).access;
    const stored = tokens.verifyAccess(first);
    expect(tokens.verifyAccess(first)).toBe(stored);
    for (let i = 0; i < ACCESS_CACHE_SIZE + 10; i++) tokens.verifyAccess(issueBoth(tokens, clock).access);
    // The first one was evicted and is verified again from scratch.
    const again = tokens.verifyAccess(first);
    expect(again).not.toBe(stored);
    expect(again).toEqual(stored);
  });
});
