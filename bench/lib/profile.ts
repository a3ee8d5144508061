import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  scenario: string;
  file: string;
  /** Sampled time inside the windows, ms. */
  sampledMs: number;
  idlePct: number;
  /** Top functions by self time, as a share of non-idle sampled time. */
  top: { name: string; location: string; selfMs: number; pct: number }[];
  byCategory: { category: string; selfMs: number; pct: number }[];
}

/**
 * Self time per function from a V8 .cpuprofile (written by `node --cpu-prof`), counting
 * only samples inside `windows` (CLOCK_MONOTONIC µs, as /bench/clock reports them).
 */
export function summariseProfile(dir: string, scenario: string, windows: [number, number][], top = 20): ProfileSummary | undefined {
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) return undefined;
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    const duration = profile.timeDeltas[i + 1] ?? 0;
    if (!windows.some(([from, to]) => t >= from && t <= to)) continue;
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + duration);
  }

  const byFunction = new Map<string, { name: string; location: string; selfUs: number }>();
  const byCategory = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const name = functionName || '(anonymous)';
    total += us;
    if (name === '(idle)') {
      idle += us;
      continue;
    }
    const location = url ? `${shorten(url)}:${lineNumber + 1}` : '';
    const key = `${name} ${location}`;
    const entry = byFunction.get(key) ?? { name, location, selfUs: 0 };
    entry.selfUs += us;
    byFunction.set(key, entry);
    const category = categorise(name, url);
    byCategory.set(category, (byCategory.get(category) ?? 0) + us);
  }
  const busy = Math.max(1, total - idle);
  return {
    scenario,
    file: join(dir, file),
    sampledMs: total / 1000,
    idlePct: (idle / Math.max(1, total)) * 100,
    top: [...byFunction.values()]
      .sort((a, b) => b.selfUs - a.selfUs)
      .slice(0, top)
      .map((f) => ({ name: f.name, location: f.location, selfMs: f.selfUs / 1000, pct: (f.selfUs / busy) * 100 })),
    byCategory: [...byCategory.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([category, us]) => ({ category, selfMs: us / 1000, pct: (us / busy) * 100 })),
  };
}

function shorten(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) return path.slice(modules + '/node_modules/'.length);
  const src = path.search(/\/(src|bench)\//);
  return src >= 0 ? path.slice(src + 1) : path;
}

function categorise(name: string, url: string): string {
  if (!url) return name.startsWith('(') ? name : 'V8 builtins / native';
  if (url.startsWith('node:')) return 'node core (http, net, streams…)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (/\/src\//.test(url)) return 'app (src/)';
  if (/\/bench\//.test(url)) return 'bench';
  return url;
}
