import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { authEvents, revocations, sessions, users } from '../../src/db/schema.js';
import { CLOCK_SKEW_SECONDS } from '../../src/tokens/index.js';
import {
  buildTestApp,
  decodeJwt,
  onPostgres,
  problem,
  refreshWith,
  register,
  revokedEventually,
  seedDataDir,
  testClock,
  uniqueEmail,
  type TestApp,
} from '../helper.js';

const root = new URL('../..', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'va-admin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run admin --silent -- …` as built (`npm test` builds first), in its own process. */
function admin(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/admin/cli.js', ...args], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** One line on stderr, no stack, nothing on stdout. */
function refusedWith(run: Run, code: number, line: RegExp): void {
  expect(run.code, run.stderr).toBe(code);
  expect(run.stdout).toBe('');
  const lines = run.stderr.trim().split('\n');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(line);
}

describe('npm run admin: usage', () => {
  it('prints the usage with --help, exit 0', async () => {
    const run = await admin(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: npm run admin --silent -- <command>/);
    expect(run.stdout).toContain('Exit codes: 0 done, 1 failed, 2 usage error, 3 no such user.');
  });

  it.each([
    ['no command', [], /^versioned-auth admin: no command given \(--help for usage\)$/],
    ['an unknown command', ['users frob'], /^versioned-auth admin: unknown command: users frob/],
    ['an unknown option', ['users', 'list', '--bogus'], /Unknown option '--bogus'/],
    ['a missing email', ['users', 'show'], /^versioned-auth admin: users show takes <email>/],
    ['an extra argument', ['sessions', 'prune', 'now'], /^versioned-auth admin: sessions prune takes no arguments/],
    ['a bad limit', ['users', 'list', '--limit', '0'], /--limit must be a whole number/],
    ['a bad email', ['users', 'revoke', 'not-an-email'], /"not-an-email" is not an email address/],
    ['a bad algorithm', ['keys', 'generate', '--algorithm', 'RS256'], /--algorithm "RS256" must be one of HS256, EdDSA, ES256/],
  ])('refuses %s with exit 2 and one line', async (_case, args, line) => {
    refusedWith(await admin(args, { DATA_DIR: join(dir, 'usage') }), 2, line);
  });

  it('says usage errors in JSON with --json', async () => {
    const run = await admin(['users', 'show', '--json']);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stderr)).toEqual({ error: { code: 'usage', message: 'users show takes <email>' } });
  });
});

describe('npm run admin -- keys generate', () => {
  const production = (env: Record<string, string>) => loadConfig({ NODE_ENV: 'production', DATA_DIR: join(dir, 'keys-data'), ...env });
  const parseEnv = (text: string) => Object.fromEntries(text.trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));

  it('prints two HS256 secrets that production accepts', async () => {
    const run = await admin(['keys', 'generate']);
    expect(run.code).toBe(0);
    const env = parseEnv(run.stdout);
    expect(Object.keys(env)).toEqual(['JWT_ACCESS_SECRET', 'JWT_REFRESH_SECRET']);
    expect(() => production(env)).not.toThrow();
    const again = parseEnv((await admin(['keys', 'generate'])).stdout);
    expect(again.JWT_ACCESS_SECRET).not.toBe(env.JWT_ACCESS_SECRET);
  });

  it('prints the same as JSON with --json', async () => {
    const run = await admin(['keys', 'generate', '--json']);
    const { env } = JSON.parse(run.stdout) as { env: Record<string, string> };
    expect(() => production(env)).not.toThrow();
  });

  it.each(['EdDSA', 'ES256'])('writes a %s key file (mode 0600) and lines that production accepts, never over an existing file', async (algorithm) => {
    const out = join(dir, `access-${algorithm}.pem`);
    const run = await admin(['keys', 'generate', '--algorithm', algorithm, '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    const env = parseEnv(run.stdout);
    expect(env).toMatchObject({ JWT_ACCESS_ALGORITHM: algorithm, JWT_ACCESS_PRIVATE_KEYS: out });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(production(env).jwt.accessAlgorithm).toBe(algorithm);

    const before = readFileSync(out, 'utf8');
    refusedWith(await admin(['keys', 'generate', '--algorithm', algorithm, '--out', out]), 1, /already exists: keys are never written over/);
    expect(readFileSync(out, 'utf8')).toBe(before);
  });

  it('prints the PEM alone without --out', async () => {
    const run = await admin(['keys', 'generate', '--algorithm', 'ES256']);
    expect(run.stdout).toMatch(/^-----BEGIN PRIVATE KEY-----\n[^]*\n-----END PRIVATE KEY-----\n$/);
    const file = join(dir, 'printed.pem');
    writeFileSync(file, run.stdout);
    const secrets = parseEnv((await admin(['keys', 'generate'])).stdout);
    expect(() => production({ JWT_ACCESS_ALGORITHM: 'ES256', JWT_ACCESS_PRIVATE_KEYS: file, JWT_REFRESH_SECRET: secrets.JWT_REFRESH_SECRET! })).not.toThrow();
  });
});

/**
 * The database commands, against the server's database: PostgreSQL with the app running, or
 * the embedded database in DATA_DIR with the app stopped (it holds the directory while it runs).
 * The app's clock runs two days behind the CLI's (the real one), so its revoked sessions are
 * old enough to prune.
 */
describe('npm run admin: the database commands', () => {
  const dataDir = join(dir, 'data');
  let t: TestApp;
  let env: Record<string, string>;
  const alice = uniqueEmail('alice');
  const bob = uniqueEmail('bob');
  const carol = uniqueEmail('carol');
  let aliceTokens: Awaited<ReturnType<typeof register>>;
  let carolTokens: Awaited<ReturnType<typeof register>>;
  let revokedSession: string;

  beforeAll(async () => {
    const clock = testClock(Math.floor((Date.now() - 2 * 86_400_000) / 1000) * 1000);
    if (!onPostgres) await seedDataDir(dataDir);
    t = await buildTestApp(onPostgres ? { clock } : { clock, database: { kind: 'pglite', dataDir: join(dataDir, 'pglite') } }, { maintenance: false });
    env = onPostgres ? { DATABASE_URL: (t.config.database as { url: string }).url } : { DATA_DIR: dataDir };
    aliceTokens = await register(t.app, alice);
    await register(t.app, bob);
    carolTokens = await register(t.app, carol);
    const ended = await register(t.app);
    await t.app.inject({ method: 'POST', url: '/auth/logout', payload: { refreshToken: ended.refreshToken } });
    revokedSession = decodeJwt(ended.accessToken).payload.sid as string;
  });
  let stopped = false;
  afterAll(async () => {
    if (!stopped) await t?.close();
  });

  /** PGlite: the app holds DATA_DIR while it runs, so it is stopped for the CLI (and started again by `reopen`). */
  const stopForCli = async () => {
    if (onPostgres || stopped) return;
    stopped = true;
    await t.close();
  };
  const reopen = async () => {
    if (onPostgres || !stopped) return;
    t = await buildTestApp({ clock: t.clock, database: t.config.database }, { maintenance: false });
    stopped = false;
  };

  it.skipIf(onPostgres)('refuses with one line while a server holds the embedded database', async () => {
    refusedWith(
      await admin(['users', 'list'], env),
      1,
      new RegExp(`^versioned-auth admin: DATA_DIR: the embedded database in .*pglite is in use by a running server \\(pid ${process.pid}\\): stop the server, then run this command again$`),
    );
  });

  it('lists users, filtered by --email-like', async () => {
    await stopForCli();
    const all = await admin(['users', 'list', '--json'], env);
    expect(all.code, all.stderr).toBe(0);
    const listed = (JSON.parse(all.stdout) as { users: { email: string; liveSessions: number; refreshTokenVersion: number }[] }).users;
    expect(listed.map((u) => u.email)).toEqual(expect.arrayContaining([alice, bob, carol]));
    expect(listed.find((u) => u.email === alice)).toMatchObject({ liveSessions: 1, refreshTokenVersion: 0 });

    const some = await admin(['users', 'list', '--email-like', 'ALICE-%'], env);
    expect(some.code, some.stderr).toBe(0);
    const lines = some.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^email +id +refreshTokenVersion +liveSessions +createdAt$/);
    expect(lines.slice(1).map((line) => line.split(/ +/)[0])).toEqual([alice]);
  });

  it('shows a user with its sessions and events, as JSON with --json', async () => {
    const run = await admin(['users', 'show', ` ${alice.toUpperCase()} `, '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    const shown = JSON.parse(run.stdout);
    expect(Object.keys(shown)).toEqual(['user', 'sessions', 'events']);
    expect(shown.user).toEqual({ id: aliceTokens.user.id, email: alice, refreshTokenVersion: 0, createdAt: expect.any(String), updatedAt: expect.any(String) });
    expect(shown.sessions).toEqual([
      {
        id: decodeJwt(aliceTokens.accessToken).payload.sid,
        state: 'live',
        createdAt: expect.any(String),
        lastUsedAt: expect.any(String),
        expiresAt: expect.any(String),
        revokedAt: null,
        ip: '127.0.0.1',
        userAgent: 'lightMyRequest',
      },
    ]);
    expect(shown.events).toEqual(expect.any(Array));
  });

  it('answers an unknown user with exit 3 and one line, for every user command', async () => {
    for (const command of [['show'], ['revoke'], ['delete', '--yes']]) {
      refusedWith(await admin(['users', command[0]!, 'nobody@example.com', ...command.slice(1)], env), 3, /^versioned-auth admin: no user with the email nobody@example.com$/);
    }
  });

  it('signs a user out everywhere: old refresh tokens are refused token_revoked, and the event is logged', async () => {
    const run = await admin(['users', 'revoke', alice, '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ id: aliceTokens.user.id, email: alice, refreshTokenVersion: 1 });
    if (onPostgres) {
      // The running instance hears of it through the revocation feed.
      expect(problem(await revokedEventually(t.app, aliceTokens.accessToken)).code).toBe('token_revoked');
    }
    const shown = JSON.parse((await admin(['users', 'show', alice, '--json'], env)).stdout);
    expect(shown.user.refreshTokenVersion).toBe(1);
    expect(shown.events[0]).toMatchObject({ type: 'logout_all', sessionId: null });

    await reopen();
    const res = await refreshWith(t.app, aliceTokens.refreshToken);
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('token_revoked');
    const [row] = await t.database.db.select().from(revocations).where(eq(revocations.userId, aliceTokens.user.id));
    expect(row).toMatchObject({ kind: 'user_version', refreshTokenVersion: 1 });
    await stopForCli();
  });

  it('deletes nobody without --yes: exit 2, one line, the user still there', async () => {
    refusedWith(await admin(['users', 'delete', carol], env), 2, new RegExp(`^versioned-auth admin: users delete removes ${carol} and its sessions for good: add --yes to confirm \\(--help for usage\\)$`));
    expect((await admin(['users', 'show', carol], env)).code).toBe(0);
  });

  it('deletes a user with its sessions, recording the revocation and account_deleted', async () => {
    const run = await admin(['users', 'delete', carol, '--yes'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^${carol}: deleted`));
    refusedWith(await admin(['users', 'show', carol], env), 3, /no user with the email/);

    await reopen();
    const id = carolTokens.user.id;
    expect(await t.database.db.select().from(users).where(eq(users.id, id))).toEqual([]);
    expect(await t.database.db.select().from(sessions).where(eq(sessions.userId, id))).toEqual([]);
    expect(await t.database.db.select({ kind: revocations.kind }).from(revocations).where(eq(revocations.userId, id))).toEqual([{ kind: 'user_deleted' }]);
    const events = await t.database.db.select().from(authEvents).where(eq(authEvents.userId, id));
    expect(events.filter((e) => e.type === 'account_deleted')).toHaveLength(1);
    expect(JSON.stringify(events)).not.toContain(carol);
    const res = await refreshWith(t.app, carolTokens.refreshToken);
    expect(problem(res).code).toBe('token_revoked');
    await stopForCli();
  });

  it('prunes ended sessions now and prints the counts', async () => {
    expect(2 * 86_400).toBeGreaterThan(t.config.jwt.accessTtl + CLOCK_SKEW_SECONDS);
    const run = await admin(['sessions', 'prune', '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { skipped: boolean; pruned: { sessions: number; authEvents: number; revocations: number } };
    expect(result.skipped).toBe(false);
    expect(result.pruned.sessions).toBeGreaterThanOrEqual(1);

    const text = await admin(['sessions', 'prune'], env);
    expect(text.stdout).toMatch(/^pruned 0 sessions \(ended more than 930s ago\)\npruned \d+ auth events/);

    await reopen();
    expect(await t.database.db.select().from(sessions).where(eq(sessions.id, revokedSession))).toEqual([]);
    // A live session is kept.
    expect(await t.database.db.select({ id: sessions.id }).from(sessions).where(eq(sessions.userId, aliceTokens.user.id))).toHaveLength(1);
  });
});
