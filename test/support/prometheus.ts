/**
 * A strict reader of the Prometheus text format (0.0.4), for tests: prom-client writes it but
 * has no parser. Every line must be empty, a `# HELP`, a `# TYPE` or a sample of a family declared
 * before it; label values must be quoted and escaped; histograms must have cumulative
 * buckets ending in `+Inf` equal to `_count`. Throws naming the first line that is not.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  types: Map<string, string>;
  /** The sum of the values of `name`'s samples whose labels include `labels` (0 when none). */
  value(name: string, labels?: Record<string, string>): number;
  /** Whether some sample of `name` has these labels. */
  has(name: string, labels?: Record<string, string>): boolean;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\["\\\\n])*"`;
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?,?\\})? (\\S+)(?: -?\\d+)?$`);
const HELP = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const ONE_LABEL = new RegExp(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\\\\n]|\\\\["\\\\n])*)"`, 'g');

export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((line, index) => {
    const fail = (why: string) => {
      throw new Error(`exposition line ${index + 1}: ${why}: ${JSON.stringify(line)}`);
    };
    // The format ignores empty lines (prom-client puts one between families).
    if (line === '') return;
    if (line.startsWith('#')) {
      const help = HELP.exec(line);
      const type = TYPE.exec(line);
      if (help) {
        if (helps.has(help[1]!)) fail('a second HELP');
        helps.add(help[1]!);
      } else if (type) {
        if (types.has(type[1]!)) fail('a second TYPE');
        types.set(type[1]!, type[2]!);
      } else fail('a comment that is neither HELP nor TYPE');
      return;
    }
    const match = SAMPLE.exec(line);
    if (!match) return fail('not a sample');
    const [, name, labelText, valueText] = match;
    const family = familyOf(name!, types);
    if (!family) fail('a sample of no declared family');
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : valueText === 'NaN' ? NaN : Number(valueText);
    if (!/^(?:[-+]?(?:\d+\.?\d*(?:e[-+]?\d+)?|\.\d+)|[+-]Inf|NaN)$/i.test(valueText!)) fail('not a number');
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (labelText ?? '').matchAll(ONE_LABEL)) {
      if (key! in labels) fail(`label ${key} twice`);
      labels[key!] = raw!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: name!, labels, value });
  });
  checkHistograms(samples, types);
  const matching = (name: string, labels: Record<string, string>) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return {
    samples,
    types,
    value: (name, labels = {}) => matching(name, labels).reduce((sum, s) => sum + s.value, 0),
    has: (name, labels = {}) => matching(name, labels).length > 0,
  };
}

function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = name.endsWith(suffix) ? name.slice(0, -suffix.length) : undefined;
    if (base && (types.get(base) === 'histogram' || (suffix !== '_bucket' && types.get(base) === 'summary'))) return base;
  }
  return undefined;
}

/** Buckets cumulative, `+Inf` present and equal to `_count`, per series. */
function checkHistograms(samples: Sample[], types: Map<string, string>): void {
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const series = new Map<string, { le: number; value: number }[]>();
    for (const s of samples.filter((x) => x.name === `${family}_bucket`)) {
      const { le, ...rest } = s.labels;
      if (le === undefined) throw new Error(`${family}_bucket without le`);
      const key = JSON.stringify(Object.entries(rest).sort());
      series.set(key, [...(series.get(key) ?? []), { le: le === '+Inf' ? Infinity : Number(le), value: s.value }]);
    }
    for (const [key, buckets] of series) {
      for (let i = 1; i < buckets.length; i++) {
        if (!(buckets[i]!.le > buckets[i - 1]!.le) || buckets[i]!.value < buckets[i - 1]!.value) {
          throw new Error(`${family} ${key}: buckets not cumulative`);
        }
      }
      const count = samples.find((x) => x.name === `${family}_count` && JSON.stringify(Object.entries(x.labels).sort()) === key);
      if (buckets.at(-1)?.le !== Infinity || count?.value !== buckets.at(-1)!.value) throw new Error(`${family} ${key}: +Inf bucket is not _count`);
    }
  }
}
