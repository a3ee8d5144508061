import fp from 'fastify-plugin';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { defineMetrics, METRIC_PREFIX, type Metrics } from '../metrics/definitions.js';
import { timeRoutes } from '../metrics/http.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Our metrics, for the plugins that record into them; undefined when metrics are off. */
    authInstruments: Metrics | undefined;
  }
}

/** The plugin's `metrics` option: `true` for a registry of its own, the host's registry, or off. */
export type MetricsOption = boolean | { registry: Registry };

/**
 * Defines the metrics (src/metrics/definitions.ts) and times every route registered after
 * it in this scope. With a registry of our own, Node's default metrics (process, heap, event
 * loop, GC) are in it too; in a host's registry they are the host's to add. Serves nothing:
 * /metrics is never on the public port (src/server.ts serves it on METRICS_PORT).
 */
export default fp<{ metrics: MetricsOption }>(
  async (app, { metrics }) => {
    if (metrics === false) {
      app.decorate('authInstruments', undefined);
      return;
    }
    const own = metrics === true;
    const registry = own ? new Registry() : metrics.registry;
    if (own) collectDefaultMetrics({ register: registry });
    const instruments = defineMetrics(registry);
    // A host's registry outlives the app: take ours out, so an app built again can put them back.
    if (!own) app.addHook('onClose', async () => {
      for (const metric of registry.getMetricsAsArray()) if (metric.name.startsWith(METRIC_PREFIX)) registry.removeSingleMetric(metric.name);
    });
    timeRoutes(app, instruments.httpDuration);
    app.decorate('authInstruments', instruments);
  },
  { name: 'versioned-auth-metrics', fastify: '5.x' },
);
