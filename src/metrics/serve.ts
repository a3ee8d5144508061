import cluster from 'node:cluster';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AggregatorRegistry, type Registry } from 'prom-client';

export interface MetricsListener {
  port: number;
  close(): Promise<void>;
}

interface Log {
  warn(object: object, message: string): void;
}

/**
 * `GET /metrics` and nothing else, on a listener of its own (METRICS_PORT at HOST), never
 * the public one: Prometheus text from `scrape`. Resolves once listening; rejects as
 * `listen` does (EADDRINUSE…).
 */
export async function serveMetrics(
  scrape: { metrics(): Promise<string>; contentType: string },
  options: { host: string; port: number; log: Log },
): Promise<MetricsListener> {
  const server = createServer((request, response) => {
    const path = request.url?.split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found: GET /metrics\n');
      return;
    }
    scrape.metrics().then(
      (text) => response.writeHead(200, { 'content-type': scrape.contentType, 'cache-control': 'no-store' }).end(request.method === 'HEAD' ? undefined : text),
      (error: unknown) => {
        options.log.warn({ err: error }, 'metrics scrape failed');
        response.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end('Metrics unavailable\n');
      },
    );
  });
  // A scraper that keeps its connection open must not hold the process at shutdown.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * WORKERS > 1, in the primary: the metrics of every worker, each asked over the cluster's
 * channel at each scrape and summed (counters, histograms; gauges as their `aggregator`
 * says) by prom-client's AggregatorRegistry.
 */
export function clusterScrape(): { metrics(): Promise<string>; contentType: string } {
  const aggregator = new AggregatorRegistry();
  return { metrics: () => aggregator.clusterMetrics(), contentType: aggregator.contentType };
}

/** In a worker: answers the primary's requests with `registry`'s metrics. */
export function reportToPrimary(registry: Registry): void {
  // Constructing one is what makes prom-client listen for the primary's requests in a worker.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
}

/** Whether this process is a WORKERS worker, whose metrics the primary serves. */
export const isClusterWorker = () => cluster.isWorker;
