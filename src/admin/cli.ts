import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AdminError, EXIT, usageError, withDatabase, type Output } from './context.js';
import { generateKeys } from './keys.js';
import { pruneSessions } from './sessions.js';
import { deleteUser, emailArgument, listUsers, revokeUser, showUser } from './users.js';

/**
 * `npm run admin --silent -- <command>`: acts on the server's database (same configuration,
 * loadConfig(process.env)) without SQL. Prints the command's output on stdout, or one JSON
 * document with --json; a refusal is one line on stderr and an exit code (EXIT).
 */

const USAGE = `Usage: npm run admin --silent -- <command> [options]

Commands:
  users list [--email-like PATTERN] [--limit N]   users by email (PATTERN: SQL LIKE, % and _, any case; N default 100)
  users show <email> [--events N]                 the user, its sessions, its latest N security-log events (default 20)
  users revoke <email>                            sign the user out everywhere (as POST /auth/logout-all)
  users delete <email> --yes                      delete the user and its sessions (as DELETE /me); --yes confirms
  sessions prune                                  prune ended sessions and old log rows now
  keys generate [--algorithm HS256|EdDSA|ES256] [--out FILE]
                                                  new production keys as environment lines
                                                  (EdDSA/ES256: the key is written to FILE, or printed as PEM)

Every command takes --json (one JSON document on stdout; errors as JSON on stderr).
Uses the server's environment (DATABASE_URL, or DATA_DIR with the server stopped).
Exit codes: 0 done, 1 failed, 2 usage error, 3 no such user.`;

type Values = Record<string, string | boolean | undefined>;

interface Command {
  options: NonNullable<ParseArgsConfig['options']>;
  /** Names of the positional arguments it requires. */
  positionals: string[];
  run(values: Values, positionals: string[]): Promise<Output> | Output;
}

const COMMANDS: Record<string, Command> = {
  'users list': {
    options: { 'email-like': { type: 'string' }, limit: { type: 'string' } },
    positionals: [],
    run: (values) => {
      const options = { emailLike: values['email-like'] as string | undefined, limit: count(values.limit, '--limit', 100) };
      return withDatabase((database, config) => listUsers(database, config, options));
    },
  },
  'users show': {
    options: { events: { type: 'string' } },
    positionals: ['email'],
    run: (values, [email]) => {
      const [address, events] = [emailArgument(email!), count(values.events, '--events', 20)];
      return withDatabase((database, config) => showUser(database, config, address, events));
    },
  },
  'users revoke': {
    options: {},
    positionals: ['email'],
    run: (_values, [email]) => {
      const address = emailArgument(email!);
      return withDatabase((database, config) => revokeUser(database, config, address));
    },
  },
  'users delete': {
    options: { yes: { type: 'boolean' } },
    positionals: ['email'],
    run: (values, [email]) => {
      const address = emailArgument(email!);
      // Not undoable, and a script's typo should not be one: the caller says so each time.
      if (values.yes !== true) throw usageError(`users delete removes ${address} and its sessions for good: add --yes to confirm`);
      return withDatabase((database, config) => deleteUser(database, config, address));
    },
  },
  'sessions prune': {
    options: {},
    positionals: [],
    run: () => withDatabase(pruneSessions),
  },
  'keys generate': {
    options: { algorithm: { type: 'string' }, out: { type: 'string' } },
    positionals: [],
    run: (values) => generateKeys({ algorithm: values.algorithm as string | undefined, out: values.out as string | undefined }),
  },
};

/** A positive whole number option, or `fallback` when absent. */
function count(value: string | boolean | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || n < 1 || n > 100_000) throw usageError(`${name} must be a whole number from 1 to 100000`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  try {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`${USAGE}\n`);
      return EXIT.ok;
    }
    const name = argv.slice(0, 2).join(' ');
    const command = COMMANDS[name];
    if (!command) throw usageError(argv.length === 0 ? 'no command given' : `unknown command: ${name}`);
    let parsed: { values: Values; positionals: string[] };
    try {
      parsed = parseArgs({ args: argv.slice(2), options: { ...command.options, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
    } catch (error) {
      throw usageError((error as Error).message);
    }
    const expected = command.positionals;
    if (parsed.positionals.length !== expected.length) {
      const wanted = expected.length === 0 ? 'no arguments' : expected.map((p) => `<${p}>`).join(' ');
      throw usageError(`${name} takes ${wanted}`);
    }
    const output = await command.run(parsed.values, parsed.positionals);
    process.stdout.write(json ? `${JSON.stringify(output.json, null, 2)}\n` : `${output.text}\n`);
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof AdminError)) throw error;
    const hint = error.code === 'usage' ? ' (--help for usage)' : '';
    process.stderr.write(
      json ? `${JSON.stringify({ error: { code: error.code, message: error.message } })}\n` : `versioned-auth admin: ${error.message}${hint}\n`,
    );
    return error.exitCode;
  }
}

process.exitCode = await main(process.argv.slice(2));
