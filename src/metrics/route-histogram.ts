import type { Metric, Registry } from 'prom-client';

/** One labelled series of a RouteHistogram: keep it, and each observation is a few additions. */
export interface HistogramSeries {
  observe(value: number): void;
}

interface Series<L extends string> {
  labels: Record<L, string>;
  /** counts[i]: observations in (bounds[i - 1], bounds[i]]; the last slot, those above every bound. */
  counts: Float64Array;
  sum: number;
  count: number;
}

export interface RouteHistogramConfig<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  /** Upper bounds, ascending; `+Inf` is added. */
  buckets: readonly number[];
  registers: Registry[];
}

/**
 * A histogram for the request path: each labelled series is made once (`labels()`) and kept by
 * its caller, and an observation is a scan of the fixed upper bounds and three additions, with
 * no label validation, no hashing and no number turned into a string. prom-client reads it at
 * scrape time through `get()`, which returns what prom-client's own Histogram returns (buckets
 * cumulative with `le`, `+Inf`, `_sum`, `_count`, aggregator `sum`), so prom-client still writes
 * the exposition text and its AggregatorRegistry still sums the workers.
 *
 * Why not prom-client's Histogram: its child's `observe()` re-validates and re-hashes the labels
 * and keys its buckets by the bound as a string on every call. GET /me, instructions per request
 * (callgrind, `npm run bench -- --instructions`), one run, PostgreSQL, 2026-12-02, load average
 * about 7: me and me-metrics, and prom-client's Histogram as a third server in the same run (a
 * temporary scenario whose server had defineMetrics build prom-client's Histogram; not kept):
 *
 * | GET /me                        | k instr/req | ÷ metrics off |
 * | ------------------------------ | ----------: | ------------: |
 * | metrics off                    |       140.4 |               |
 * | prom-client's Histogram        |       147.4 |        1.050× |
 * | this one                       |       141.1 |        1.005× |
 *
 * PGlite, one run likewise: off 139.9k, prom-client's 147.7k (1.055×), this one 141.6k (1.012×).
 */
export class RouteHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  private readonly labelNames: readonly L[];
  private readonly bounds: readonly number[];
  private readonly series: Series<L>[] = [];
  private readonly byLabels = new Map<string, HistogramSeries>();

  constructor(config: RouteHistogramConfig<L>) {
    const { name, help, labelNames, buckets } = config;
    if (labelNames.includes('le' as L)) throw new Error(`${name}: le is a reserved label name`);
    if (buckets.length === 0 || buckets.some((bound, i) => !Number.isFinite(bound) || (i > 0 && bound <= buckets[i - 1]!))) {
      throw new Error(`${name}: buckets must be finite and ascending`);
    }
    this.name = name;
    this.help = help;
    this.labelNames = [...labelNames];
    this.bounds = [...buckets];
    // prom-client types a registrable metric as one of its own classes; it reads name, get() and reset().
    for (const registry of config.registers) registry.registerMetric(this as unknown as Metric);
  }

  /** The series of these label values (the same one for the same values): keep it. */
  labels(labels: Record<L, string>): HistogramSeries {
    const key = JSON.stringify(this.labelNames.map((label) => labels[label]));
    const known = this.byLabels.get(key);
    if (known) return known;
    const ordered = {} as Record<L, string>;
    for (const label of this.labelNames) {
      const value = labels[label];
      if (typeof value !== 'string') throw new Error(`${this.name}: label ${label} missing`);
      ordered[label] = value;
    }
    const series: Series<L> = { labels: ordered, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
    this.series.push(series);
    const bounds = this.bounds;
    const last = bounds.length;
    const observer: HistogramSeries = {
      observe(value) {
        let i = 0;
        while (i < last && value > bounds[i]!) i++;
        series.counts[i]!++;
        series.sum += value;
        series.count++;
      },
    };
    this.byLabels.set(key, observer);
    return observer;
  }

  /** What prom-client's Histogram#get() returns; series never observed are left out, as there. */
  async get() {
    const bucket = `${this.name}_bucket`;
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const series of this.series) {
      if (series.count === 0) continue;
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += series.counts[i]!;
        values.push({ labels: { le, ...series.labels }, value: cumulative, metricName: bucket });
      });
      values.push(
        { labels: { le: '+Inf', ...series.labels }, value: series.count, metricName: bucket },
        { labels: { ...series.labels }, value: series.sum, metricName: `${this.name}_sum` },
        { labels: { ...series.labels }, value: series.count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** Registry#resetMetrics(): every series back to no observation (kept, as their callers keep them). */
  reset(): void {
    for (const series of this.series) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}
