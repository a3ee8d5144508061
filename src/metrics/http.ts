import type { FastifyInstance, onResponseHookHandler, RouteOptions } from 'fastify';
import type { HistogramSeries } from './route-histogram.js';

/** The request-duration histogram: ours (src/metrics/route-histogram.ts), or prom-client's, whose `labels()` fits too. */
interface Duration {
  labels(labels: { method: string; route: string; status_code: string }): HistogramSeries;
}

/**
 * Times every route registered after it in `scope`: each route gets an onResponse hook of
 * its own whose method and route labels are fixed when the route registers, with one
 * labelled child per status kept, so a request costs a Map lookup and one observation, and
 * the route label is always the pattern (`/auth/sessions/:id`), never the URL.
 */
export function timeRoutes(scope: FastifyInstance, duration: Duration): void {
  scope.addHook('onRoute', (route: RouteOptions) => {
    const observe = observer(duration, route);
    const existing = route.onResponse;
    route.onResponse = existing === undefined ? [observe] : [...(Array.isArray(existing) ? existing : [existing]), observe];
  });
}

function observer(duration: Duration, route: RouteOptions): onResponseHookHandler {
  const single = Array.isArray(route.method) ? undefined : String(route.method);
  const children = new Map<string | number, HistogramSeries>();
  return (request, reply, done) => {
    const status = reply.statusCode;
    const method = single ?? request.method;
    const key = single === undefined ? `${method} ${status}` : status;
    let child = children.get(key);
    if (child === undefined) {
      child = duration.labels({ method, route: route.url, status_code: String(status) });
      children.set(key, child);
    }
    child.observe(reply.elapsedTime / 1000);
    done();
  };
}
