import { ConfigError, type Config } from './index.js';

/**
 * Where start-up failed: writing the development keys into DATA_DIR, registering the
 * plugin (which opens the database), listening, or listening for metrics (METRICS_PORT).
 */
export type StartupPhase = 'keys' | 'register' | 'listen' | 'metrics';

/** System errors of a connection that got no answer, or lost it. */
const UNREACHABLE = new Set(['ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE']);
/** File-system errors that make DATA_DIR unusable. */
const UNWRITABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'ENOTDIR', 'EEXIST', 'EISDIR']);

/**
 * The one line (naming the variable, saying what to do) for a start-up failure that is the
 * environment's doing: a locked DATA_DIR, a database that is missing or answers no, a port
 * in use. Undefined for anything else, which is a bug and keeps its stack trace. Never
 * contains the password of DATABASE_URL.
 */
export function startupFailure(
  error: unknown,
  config: Pick<Config, 'host' | 'port' | 'database' | 'dataDir' | 'metricsPort'>,
  phase: StartupPhase,
): string | undefined {
  if (error instanceof ConfigError) return error.message;
  if (phase === 'listen') return listenFailure(errorCode(error), config);
  if (phase === 'metrics') return listenFailure(errorCode(error), { host: config.host, port: config.metricsPort ?? 0 }, 'METRICS_PORT');
  if (phase === 'keys') return dataDirFailure(error, config.dataDir);
  if (config.database.kind === 'postgres') return postgresFailure(error, config.database.url);
  return dataDirFailure(error, config.dataDir);
}

function listenFailure(code: string | undefined, { host, port }: Pick<Config, 'host' | 'port'>, variable = 'PORT'): string | undefined {
  switch (code) {
    case 'EADDRINUSE':
      return `${variable}: ${host}:${port} is already in use: stop the process listening there, or set ${variable} to a free port`;
    case 'EACCES':
      return `${variable}: ${port} needs privileges this process does not have: use a port above 1023 (and map it in your proxy or container)`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `HOST: ${host} is not an address of this machine: set HOST to 127.0.0.1, 0.0.0.0 or one of its own addresses`;
    default:
      return undefined;
  }
}

function postgresFailure(error: unknown, url: string): string | undefined {
  const target = describeUrl(url);
  if (!target) return undefined;
  const { host, port, database, user, password } = target;
  const at = `${host}:${port}`;
  const code = errorCode(error);
  // pg's messages do not carry the password; scrub it anyway, since this line is printed.
  const message = scrub(oneLine(error instanceof Error ? error.message : String(error)), password);
  if (code === '3D000') {
    return `DATABASE_URL: database "${database}" does not exist on ${at}: create it (createdb -h ${host} -p ${port} ${database}) or fix the database name`;
  }
  if (code === 'ECONNREFUSED') {
    return `DATABASE_URL: nothing accepts connections at ${at}: start PostgreSQL, or fix the host and port`;
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `DATABASE_URL: the host ${host} cannot be resolved: fix the host`;
  }
  if (code === '28P01' || code === '28000') {
    return `DATABASE_URL: PostgreSQL at ${at} refused user "${user}" (${message}): fix the user or password, or the server's pg_hba.conf`;
  }
  if ((code && UNREACHABLE.has(code)) || /timeout|Connection terminated/i.test(message)) {
    return `DATABASE_URL: no answer from PostgreSQL at ${at} (${message}): check that it runs there and that this machine can reach it`;
  }
  if (isPostgresError(error)) {
    return `DATABASE_URL: PostgreSQL at ${at}/${database} answered "${message}" (SQLSTATE ${code}): check the database and the user's privileges`;
  }
  return undefined;
}

function dataDirFailure(error: unknown, dataDir: string): string | undefined {
  const code = errorCode(error);
  if (!code || !UNWRITABLE.has(code)) return undefined;
  const path = (error as NodeJS.ErrnoException).path ?? dataDir;
  return `DATA_DIR: cannot use ${path} (${code}): give this user write access there, free some space, or set DATA_DIR to another directory`;
}

/** The parts of a PostgreSQL URL a message may show: never the password, which is returned only to be scrubbed. */
function describeUrl(url: string) {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const user = decode(parsed.username) || 'postgres';
  return {
    host: parsed.hostname || 'localhost',
    port: parsed.port || '5432',
    user,
    database: decode(parsed.pathname.slice(1)) || user,
    password: decode(parsed.password),
  };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** `text` with every occurrence of `secret` masked. */
const scrub = (text: string, secret: string) => (secret ? text.split(secret).join('***') : text);

/** A system error's code, or PostgreSQL's SQLSTATE; also inside an AggregateError (several addresses tried). */
function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  if (error instanceof AggregateError) return errorCode(error.errors[0]);
  return undefined;
}

/** An error PostgreSQL sent (pg's DatabaseError): a severity and a five-character SQLSTATE. */
function isPostgresError(error: unknown): boolean {
  const { severity, code } = (error ?? {}) as { severity?: unknown; code?: unknown };
  return typeof severity === 'string' && typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();
