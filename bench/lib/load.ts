import autocannon, { type Instance, type RequestParams } from 'autocannon';
import { countInstructions } from './perf.js';
import { cpuSplitMs, machineBusyMs, postgresBackendsCpuMs, postgresCpuBetween } from './proc.js';
import { percentile } from './stats.js';

/** What one connection sends: `next()` before every request, `onResponse` after every answer. */
export interface ConnectionScript {
  next(): { headers?: Record<string, string>; body?: string };
  onResponse?(status: number, body: string): void;
}

/** A request shape and how each connection fills it in. */
export interface Target {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  /** Called once per connection per load run, with the connection's index. */
  connection(index: number): ConnectionScript;
}

export interface LoadOptions {
  baseUrl: string;
  connections: number;
  /** Seconds; ignored when `amount` is set. */
  duration?: number;
  /** A fixed number of requests instead of a fixed time. */
  amount?: number;
  /** The server's pid: CPU time per request is read from /proc/<pid>/stat before and after. */
  serverPid?: number;
  /** False: still read the server's CPU (to tell other processes' CPU apart) but report no per-request figure. */
  perRequestCpu?: boolean;
  /** The PostgreSQL database the server uses: its backends' CPU per request is reported too. */
  postgresDatabase?: string;
  /** Called with the running instance (e.g. to start something alongside). */
  onStart?: (instance: Instance) => void;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  /** Percentiles in ms (sub-millisecond), from every response's own timing. */
  latency: { p50: number; p97_5: number; p99: number; mean: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** The first few non-2xx answers, for diagnosis. */
  failures: string[];
  /** Server CPU (user + system, every thread) per request in µs; undefined without /proc. */
  cpuUsPerRequest?: number;
  /** The same, split into user and system (kernel: sockets, loopback TCP) time. */
  cpuUserUsPerRequest?: number;
  cpuSystemUsPerRequest?: number;
  /** CPU of the PostgreSQL backends serving the server's database, per request, in µs (PostgreSQL only). */
  dbCpuUsPerRequest?: number;
  /**
   * CPU the rest of the machine used meanwhile, ms per second of wall time: whole-machine
   * busy time minus the server's, its PostgreSQL backends' and this process's. Anything
   * well above zero means something else competed for the cores during the measurement.
   */
  otherCpuMsPerS?: number;
  /** Server instructions per request, user-space and kernel, from perf (fixed-count runs only; undefined without perf). */
  instructionsPerRequest?: { user: number; kernel: number };
}

/**
 * Runs autocannon against `target` for a fixed time or a fixed number of requests.
 * Latency percentiles are computed from every response's hrtime-based duration, which
 * autocannon emits per response, because its own histogram only keeps whole milliseconds.
 */
export async function runLoad(target: Target, options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const failures: string[] = [];
  let index = 0;
  const snapshot = () => ({
    at: performance.now(),
    server: options.serverPid === undefined ? undefined : cpuSplitMs(options.serverPid),
    runner: process.cpuUsage(),
    machine: machineBusyMs(),
    db: options.postgresDatabase === undefined ? undefined : postgresBackendsCpuMs(options.postgresDatabase),
  });
  const perRequest = options.perRequestCpu ?? true;
  const counter = options.amount && options.serverPid !== undefined && perRequest ? await countInstructions(options.serverPid) : undefined;
  const before = snapshot();
  const instance = autocannon({
    url: options.baseUrl,
    connections: options.connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.duration ?? 10 }),
    timeout: 30,
    method: target.method,
    headers: target.headers ?? {},
    setupClient: (client) => {
      const script = target.connection(index++);
      client.setRequests([
        {
          method: target.method,
          path: target.path,
          setupRequest: (request: RequestParams) => {
            const next = script.next();
            return { ...request, headers: { ...request.headers, ...next.headers }, ...(next.body ? { body: next.body } : {}) };
          },
          onResponse: (status, body) => {
            if ((status < 200 || status > 299) && failures.length < 5) failures.push(`${status} ${body.slice(0, 300)}`);
            script.onResponse?.(status, body);
          },
        },
      ]);
    },
  });
  instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
    latencies.push(responseTime);
  });
  options.onStart?.(instance);
  const result = await instance;
  const after = snapshot();
  const instructions = await counter?.stop();

  const sorted = Float64Array.from(latencies).sort();
  const requests = result.requests.total;
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]));
  return {
    requests,
    seconds: result.duration,
    rps: result.duration > 0 ? requests / result.duration : 0,
    latency: {
      p50: percentile(sorted, 50),
      p97_5: percentile(sorted, 97.5),
      p99: percentile(sorted, 99),
      mean: sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : 0,
      max: sorted.length ? sorted[sorted.length - 1]! : 0,
    },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    failures,
    ...cpuFigures(before, after, requests, perRequest),
    ...(instructions && requests > 0
      ? { instructionsPerRequest: { user: instructions.user / requests, kernel: instructions.kernel / requests } }
      : {}),
  };
}

type Snapshot = { at: number; server?: { user: number; system: number }; runner: NodeJS.CpuUsage; machine?: number; db?: Map<number, number> };

function cpuFigures(before: Snapshot, after: Snapshot, requests: number, perRequest: boolean): Partial<LoadResult> {
  const figures: Partial<LoadResult> = {};
  const seconds = (after.at - before.at) / 1000;
  const runnerMs = (after.runner.user + after.runner.system - before.runner.user - before.runner.system) / 1000;
  const serverMs = before.server && after.server ? after.server.user + after.server.system - before.server.user - before.server.system : 0;
  if (before.server && after.server && requests > 0 && perRequest) {
    const user = after.server.user - before.server.user;
    const system = after.server.system - before.server.system;
    figures.cpuUsPerRequest = ((user + system) * 1000) / requests;
    figures.cpuUserUsPerRequest = (user * 1000) / requests;
    figures.cpuSystemUsPerRequest = (system * 1000) / requests;
  }
  const dbMs = before.db && after.db ? postgresCpuBetween(before.db, after.db) : 0;
  if (before.db && after.db && requests > 0 && perRequest) figures.dbCpuUsPerRequest = (dbMs * 1000) / requests;
  if (before.machine !== undefined && after.machine !== undefined && seconds > 0) {
    figures.otherCpuMsPerS = Math.max(0, after.machine - before.machine - serverMs - dbMs - runnerMs) / seconds;
  }
  return figures;
}
