import { connect, type Socket } from 'node:net';
import type { Target } from './load.js';

/**
 * A closed-loop HTTP/1.1 load generator on connections that stay open across runs: the
 * `--instructions` mode's warm-up and every measured window of a server go over the same
 * sockets. autocannon opens new connections for every run, and under callgrind the first
 * few thousand requests after new connections are dominated by V8 deoptimising and
 * recompiling Node's stream and HTTP code for the new sockets' object shapes: counting them
 * would measure connection churn, not requests.
 *
 * Each request is the bytes autocannon sends for the same target (request line, `Host`,
 * `Connection: keep-alive`, the target's headers, `Content-Length` when there is a body),
 * filled in per request by the target's `connection(i).next()`, so the server sees what the
 * load test sends it. One request in flight per connection; `amount` requests per run, in all.
 */
export interface KeepAliveClient {
  run(target: Target, amount: number): Promise<ClientRun>;
  close(): void;
}

export interface ClientRun {
  requests: number;
  non2xx: number;
  /** The first few non-2xx answers. */
  failures: string[];
  seconds: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');

export function keepAliveClient(baseUrl: string, connections: number): KeepAliveClient {
  const url = new URL(baseUrl);
  const host = url.host;
  const port = Number(url.port);
  const sockets: (Socket | undefined)[] = Array.from({ length: connections }, () => undefined);

  const socketFor = (index: number) =>
    new Promise<Socket>((resolve, reject) => {
      const existing = sockets[index];
      if (existing && !existing.destroyed && existing.readyState === 'open') return resolve(existing);
      const socket = connect({ host: url.hostname, port });
      socket.once('connect', () => {
        socket.removeListener('error', reject);
        // Between runs nobody listens: an idle socket's error only means reconnecting at the next run.
        socket.on('error', () => undefined);
        sockets[index] = socket;
        resolve(socket);
      });
      socket.once('error', reject);
    });

  const build = (target: Target, next: ReturnType<ReturnType<Target['connection']>['next']>) => {
    const headers = { ...target.headers, ...next.headers };
    const lines = [`${target.method} ${target.path} HTTP/1.1`, `Host: ${host}`, 'Connection: keep-alive'];
    const body = next.body === undefined ? undefined : Buffer.from(next.body);
    if (body && body.length > 0) headers['Content-Length'] = String(body.length);
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n');
    return body && body.length > 0 ? Buffer.concat([head, body]) : head;
  };

  return {
    async run(target, amount) {
      const started = performance.now();
      const result: ClientRun = { requests: 0, non2xx: 0, failures: [], seconds: 0 };
      let sent = 0;
      const open = await Promise.all(sockets.map((_, i) => socketFor(i)));
      await new Promise<void>((resolve, reject) => {
        let running = open.length;
        let failed = false;
        const fail = (error: Error) => {
          if (failed) return;
          failed = true;
          reject(error);
        };
        open.forEach((socket, index) => {
          const script = target.connection(index);
          let buffer: Buffer = Buffer.alloc(0);
          let expected: { status: number; headerLength: number; bodyLength: number } | undefined;
          const cleanup = () => {
            socket.removeListener('data', onData);
            socket.removeListener('close', onClose);
            socket.removeListener('error', onError);
            clearTimeout(watchdog);
          };
          let watchdog: NodeJS.Timeout;
          const arm = () => {
            clearTimeout(watchdog);
            watchdog = setTimeout(() => {
              cleanup();
              fail(new Error(`no answer in 60 s on connection ${index}`));
            }, 60_000);
          };
          const sendNext = () => {
            if (sent >= amount) {
              cleanup();
              if (--running === 0) resolve();
              return;
            }
            sent++;
            arm();
            socket.write(build(target, script.next()));
          };
          const onData = (chunk: Buffer) => {
            buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
            for (;;) {
              if (!expected) {
                const end = buffer.indexOf(HEADER_END);
                if (end < 0) return;
                const head = buffer.subarray(0, end).toString('latin1');
                const status = Number(head.slice(9, 12));
                if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
                  cleanup();
                  return fail(new Error(`chunked answer on ${target.method} ${target.path}: not supported by this client`));
                }
                const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
                expected = { status, headerLength: end + HEADER_END.length, bodyLength: length ? Number(length[1]) : 0 };
              }
              const total = expected.headerLength + expected.bodyLength;
              if (buffer.length < total) return;
              const body = buffer.subarray(expected.headerLength, total).toString('utf8');
              const { status } = expected;
              buffer = buffer.subarray(total);
              expected = undefined;
              result.requests++;
              if (status < 200 || status > 299) {
                result.non2xx++;
                if (result.failures.length < 5) result.failures.push(`${status} ${body.slice(0, 300)}`);
              }
              script.onResponse?.(status, body);
              sendNext();
            }
          };
          const onClose = () => {
            cleanup();
            fail(new Error(`connection ${index} closed by the server mid-run`));
          };
          const onError = (error: Error) => {
            cleanup();
            fail(error);
          };
          socket.on('data', onData);
          socket.once('close', onClose);
          socket.once('error', onError);
          sendNext();
        });
      });
      result.seconds = (performance.now() - started) / 1000;
      return result;
    },
    close() {
      for (const socket of sockets) socket?.destroy();
    },
  };
}
