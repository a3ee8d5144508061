import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/index.js';
import { startupFailure, type StartupPhase } from '../../src/config/startup-failure.js';

const PASSWORD = 's3cret-Pa55word';
const postgres = {
  host: '127.0.0.1',
  port: 3000,
  dataDir: '/srv/data',
  database: { kind: 'postgres' as const, url: `postgres://app:${PASSWORD}@db.internal:6543/auth` },
};
const pglite = { ...postgres, database: { kind: 'pglite' as const, dataDir: '/srv/data/pglite' } };

/** An error shaped like Node's system errors and pg's DatabaseError: a message and a code (and more). */
const failure = (message: string, fields: Record<string, unknown>) => Object.assign(new Error(message), fields);

describe('startupFailure', () => {
  it.each<[string, unknown, typeof postgres | typeof pglite, StartupPhase, RegExp]>([
    ['a locked DATA_DIR (ConfigError)', new ConfigError('DATA_DIR', 'in use'), pglite, 'register', /^DATA_DIR: in use$/],
    ['a refused connection', failure('connect ECONNREFUSED 10.0.0.5:6543', { code: 'ECONNREFUSED', syscall: 'connect' }), postgres, 'register', /^DATABASE_URL: nothing accepts connections at db\.internal:6543: start PostgreSQL/],
    ['a refused connection to every address of a name', new AggregateError([failure('connect ECONNREFUSED ::1:6543', { code: 'ECONNREFUSED' })]), postgres, 'register', /^DATABASE_URL: nothing accepts connections/],
    ['a database that does not exist', failure('database "auth" does not exist', { code: '3D000', severity: 'FATAL' }), postgres, 'register', /^DATABASE_URL: database "auth" does not exist on db\.internal:6543: create it/],
    ['an unknown host', failure('getaddrinfo ENOTFOUND db.internal', { code: 'ENOTFOUND' }), postgres, 'register', /^DATABASE_URL: the host db\.internal cannot be resolved/],
    ['a wrong password', failure(`password authentication failed for user "app" ${PASSWORD}`, { code: '28P01', severity: 'FATAL' }), postgres, 'register', /^DATABASE_URL: PostgreSQL at db\.internal:6543 refused user "app"/],
    ['a connection timeout', failure('Connection terminated due to connection timeout', {}), postgres, 'register', /^DATABASE_URL: no answer from PostgreSQL at db\.internal:6543/],
    ['another error PostgreSQL sends', failure('permission denied for schema public', { code: '42501', severity: 'ERROR' }), postgres, 'register', /^DATABASE_URL: .*SQLSTATE 42501/],
    ['a port in use', failure('listen EADDRINUSE', { code: 'EADDRINUSE', syscall: 'listen' }), postgres, 'listen', /^PORT: 127\.0\.0\.1:3000 is already in use/],
    ['a privileged port', failure('listen EACCES', { code: 'EACCES', syscall: 'listen' }), postgres, 'listen', /^PORT: 3000 needs privileges/],
    ['a HOST not on this machine', failure('listen EADDRNOTAVAIL', { code: 'EADDRNOTAVAIL' }), postgres, 'listen', /^HOST: 127\.0\.0\.1 is not an address of this machine/],
    ['an unwritable DATA_DIR', failure('EACCES: permission denied', { code: 'EACCES', path: '/srv/data/pglite' }), pglite, 'register', /^DATA_DIR: cannot use \/srv\/data\/pglite \(EACCES\)/],
    ['development keys that cannot be written, on PostgreSQL too', failure('EACCES: permission denied', { code: 'EACCES', path: '/srv/data/dev-keys.json' }), postgres, 'keys', /^DATA_DIR: cannot use \/srv\/data\/dev-keys\.json \(EACCES\)/],
  ])('explains %s in one line naming the variable, without the password', (_case, error, config, phase, expected) => {
    const line = startupFailure(error, config, phase);
    expect(line).toMatch(expected);
    expect(line).not.toMatch(/[\r\n]/);
    expect(line).not.toContain(PASSWORD);
  });

  it.each<[string, unknown, typeof postgres | typeof pglite, StartupPhase]>([
    ['a bug in the code', new TypeError('x is not a function'), postgres, 'register'],
    ['a bug, on PGlite', new TypeError('x is not a function'), pglite, 'register'],
    ['an unknown listen error', failure('listen EWHAT', { code: 'EWHAT' }), postgres, 'listen'],
    ['something thrown that is not an error', 'a string', postgres, 'register'],
  ])('leaves %s unexplained, so it keeps its stack trace', (_case, error, config, phase) => {
    expect(startupFailure(error, config, phase)).toBeUndefined();
  });
});
