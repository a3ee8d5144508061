import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RouteHistogram } from '../../src/metrics/route-histogram.js';
import { parseExposition } from '../support/prometheus.js';

const NAME = 'test_request_duration_seconds';
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const labelNames = ['method', 'route', 'status_code'] as const;
const config = (registry: Registry) => ({ name: NAME, help: 'Request durations', labelNames, buckets: BUCKETS, registers: [registry] });

type Labels = { method: string; route: string; status_code: string };
const ME: Labels = { method: 'GET', route: '/me', status_code: '200' };
const REFUSED: Labels = { method: 'GET', route: '/me', status_code: '401' };
const SESSION: Labels = { method: 'DELETE', route: '/auth/sessions/:id', status_code: '404' };

/** Observations on bounds (le is inclusive), between them, below the first and above the last. */
const OBSERVED: [Labels, number][] = [
  [ME, 0.0003],
  [ME, 0.0005],
  [REFUSED, 0.0042],
  [ME, 0.00051],
  [SESSION, 0.3],
  [ME, 0.0005],
  [ME, 10],
  [ME, 12.5],
  [REFUSED, 0.1],
  [ME, 0.07],
];

/** The same observations into ours and into prom-client's Histogram, each in a registry of its own. */
function both(observed: [Labels, number][] = OBSERVED) {
  const ours = new Registry();
  const library = new Registry();
  const histogram = new RouteHistogram(config(ours));
  const reference = new Histogram(config(library));
  for (const [labels, seconds] of observed) {
    histogram.labels(labels).observe(seconds);
    reference.labels(labels).observe(seconds);
  }
  return { ours, library };
}

describe('RouteHistogram', () => {
  it('counts each series: cumulative buckets, le inclusive, +Inf equal to _count, the exact _sum', async () => {
    const { ours } = both();
    const metrics = parseExposition(await ours.metrics());
    const bucket = (le: string) => metrics.value(`${NAME}_bucket`, { ...ME, le });
    expect([bucket('0.0005'), bucket('0.001'), bucket('0.05'), bucket('0.1'), bucket('5'), bucket('10'), bucket('+Inf')]).toEqual([3, 4, 4, 5, 5, 6, 7]);
    expect(metrics.value(`${NAME}_count`, ME)).toBe(7);
    expect(metrics.value(`${NAME}_sum`, ME)).toBe(0.0003 + 0.0005 + 0.00051 + 0.0005 + 10 + 12.5 + 0.07);
    expect(metrics.value(`${NAME}_count`, REFUSED)).toBe(2);
    expect(metrics.value(`${NAME}_bucket`, { ...REFUSED, le: '0.005' })).toBe(1);
    expect(metrics.value(`${NAME}_bucket`, { ...SESSION, le: '0.25' })).toBe(0);
    expect(metrics.value(`${NAME}_bucket`, { ...SESSION, le: '0.5' })).toBe(1);
    expect(metrics.samples.filter((s) => s.name === `${NAME}_bucket` && s.labels.status_code === '200')).toHaveLength(BUCKETS.length + 1);
  });

  it("writes the exposition text prom-client's Histogram writes for the same observations", async () => {
    const { ours, library } = both();
    expect(await ours.metrics()).toBe(await library.metrics());
    // What a worker sends the primary, less prom-client's exemplar slots (null: exemplars are off).
    const withoutExemplars = (metrics: Awaited<ReturnType<Registry['getMetricsAsJSON']>>) =>
      metrics.map((metric) => ({ ...metric, values: metric.values.map((value) => {
        const { exemplar: _, ...rest } = value as typeof value & { exemplar?: unknown };
        return rest;
      }) }));
    expect(await ours.getMetricsAsJSON()).toStrictEqual(withoutExemplars(await library.getMetricsAsJSON()));
  });

  it("is summed across workers by AggregatorRegistry as prom-client's Histogram is", async () => {
    const first = both();
    const second = both([...OBSERVED, [ME, 0.002]]);
    const aggregate = async (registries: Registry[]) => AggregatorRegistry.aggregate(await Promise.all(registries.map((r) => r.getMetricsAsJSON()))).metrics();
    const summed = await aggregate([first.ours, second.ours]);
    expect(summed).toBe(await aggregate([first.library, second.library]));
    const metrics = parseExposition(summed);
    expect(metrics.value(`${NAME}_count`, ME)).toBe(15);
    expect(metrics.value(`${NAME}_bucket`, { ...ME, le: '0.0025' })).toBe(9);
    expect(metrics.value(`${NAME}_bucket`, { ...ME, le: '+Inf' })).toBe(15);
  });

  it('keeps one series per label values, and shows none before its first observation', async () => {
    const registry = new Registry();
    const histogram = new RouteHistogram(config(registry));
    const series = histogram.labels(ME);
    expect(histogram.labels({ status_code: '200', route: '/me', method: 'GET' })).toBe(series);
    expect(parseExposition(await registry.metrics()).has(`${NAME}_count`)).toBe(false);
    series.observe(0.001);
    histogram.labels({ ...ME }).observe(0.001);
    expect(parseExposition(await registry.metrics()).value(`${NAME}_count`, ME)).toBe(2);
  });

  it('starts again from nothing on Registry#resetMetrics, and its kept series count on', async () => {
    const registry = new Registry();
    const series = new RouteHistogram(config(registry)).labels(ME);
    series.observe(0.2);
    registry.resetMetrics();
    expect(parseExposition(await registry.metrics()).has(`${NAME}_count`)).toBe(false);
    series.observe(0.003);
    const metrics = parseExposition(await registry.metrics());
    expect(metrics.value(`${NAME}_count`, ME)).toBe(1);
    expect(metrics.value(`${NAME}_sum`, ME)).toBe(0.003);
  });

  it('refuses a name already in the registry, le as a label, and buckets out of order', () => {
    const registry = new Registry();
    new RouteHistogram(config(registry));
    expect(() => new RouteHistogram(config(registry))).toThrow(/already been registered/);
    expect(() => new RouteHistogram({ ...config(new Registry()), labelNames: ['le'] })).toThrow(/le is a reserved/);
    expect(() => new RouteHistogram({ ...config(new Registry()), buckets: [0.1, 0.05] })).toThrow(/ascending/);
    expect(() => new RouteHistogram({ ...config(new Registry()), buckets: [] })).toThrow(/ascending/);
  });
});
