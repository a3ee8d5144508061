import { fmt, fmtRatio, type Report, type Row } from './report.js';

const COLORS: Record<string, string> = {
  baseline: '#8c8c8c',
  me: '#1f6fb4',
  'me-many-tokens': '#4f9bd6',
  'fastify-bare': '#3a9e6a',
  'fastify-service': '#7cc39a',
  'session-lookup': '#e8831a',
  refresh: '#c9372c',
  login: '#7b4fb0',
  'argon2-raw': '#b9a3d6',
};
const CHARTED = Object.keys(COLORS);

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A log10 axis over whole decades covering `values`. */
function logScale(values: number[], x0: number, width: number) {
  const positive = values.filter((v) => v > 0);
  let lo = Math.floor(Math.log10(Math.min(...positive)));
  let hi = Math.ceil(Math.log10(Math.max(...positive)));
  if (hi <= lo) hi = lo + 1;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  const x = (v: number) => x0 + (width * (Math.log10(Math.max(v, 10 ** lo)) - lo)) / (hi - lo);
  const ticks = Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i));
  return { x, ticks };
}

const tickLabel = (v: number) => (v >= 1000 ? `${v / 1000}k` : String(v));

/**
 * A hand-written SVG bar chart of one run, drawn from its JSON report: requests per second
 * and server CPU per request for each scenario (log scales), and the targets, met or missed.
 */
export function renderSvg(report: Report): string {
  const rows = CHARTED.map((name) => report.summary.find((row) => row.scenario === name)).filter((row): row is Row => row !== undefined);
  const db = report.meta.database === 'postgres' ? 'PostgreSQL' : 'PGlite';
  const W = 980;
  const labelX = 16;
  const panelA = { x0: 200, width: 300 };
  const panelB = { x0: 640, width: 260 };
  const top = 104;
  const rowH = 28;
  const barH = 16;
  const chartBottom = top + rows.length * rowH;
  const targetsTop = chartBottom + 64;
  const H = targetsTop + report.targets.length * 22 + 24;

  const rps = logScale(rows.map((r) => r.rps ?? 0), panelA.x0, panelA.width);
  const pgCpu = (row: Row) => (row.dbCpuUsPerRequest !== undefined && row.dbCpuUsPerRequest > 0 ? row.dbCpuUsPerRequest : 0);
  const cpu = logScale(rows.map((r) => (r.cpuUsPerRequest ?? 0) + pgCpu(r)), panelB.x0, panelB.width);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${labelX}" y="28" font-size="17" font-weight="600">versioned-auth load test on ${escape(db)}${report.meta.quick ? ' (quick)' : ''}</text>`,
    `<text x="${labelX}" y="48" fill="#555">${escape(
      `${report.meta.options.rounds} interleaved rounds × ${report.meta.options.duration} s, ${report.meta.options.connections} connections, medians · ` +
        `${report.meta.cores} × ${report.meta.cpu} shared by server and load generator · node ${report.meta.node} · ${report.meta.date.slice(0, 10)}`,
    )}</text>`,
    ...report.meta.warnings.map(
      (w, i) => `<text x="${labelX}" y="${64 + i * 14}" fill="#b03a2e" font-size="11">${escape(truncate(`Warning: ${w}`, 160))}</text>`,
    ),
    `<text x="${panelA.x0}" y="84" font-weight="600">Requests per second (log scale; × baseline)</text>`,
    `<text x="${panelB.x0}" y="84" font-weight="600">CPU per request, µs (log scale)</text>`,
  );

  for (const [scale, panel] of [
    [rps, panelA],
    [cpu, panelB],
  ] as const) {
    for (const tick of scale.ticks) {
      const x = scale.x(tick).toFixed(1);
      out.push(
        `<line x1="${x}" y1="${top - 6}" x2="${x}" y2="${chartBottom}" stroke="#e3e3e3"/>`,
        `<text x="${x}" y="${chartBottom + 16}" text-anchor="middle" fill="#777" font-size="11">${tickLabel(tick)}</text>`,
      );
    }
    out.push(`<line x1="${panel.x0}" y1="${top - 6}" x2="${panel.x0}" y2="${chartBottom}" stroke="#999"/>`);
  }

  rows.forEach((row, i) => {
    const y = top + i * rowH;
    const color = COLORS[row.scenario]!;
    out.push(`<text x="${labelX}" y="${y + barH - 3}">${escape(row.scenario)}</text>`);
    if (row.rps !== undefined) {
      const end = rps.x(row.rps);
      const ratio = row.vsBaseline?.rps !== undefined && row.scenario !== 'baseline' ? ` (${fmtRatio(row.vsBaseline.rps)})` : '';
      out.push(
        `<rect x="${panelA.x0}" y="${y}" width="${Math.max(1, end - panelA.x0).toFixed(1)}" height="${barH}" fill="${color}"/>`,
        `<text x="${(end + 4).toFixed(1)}" y="${y + barH - 3}" fill="#222">${escape(fmt(row.rps) + ratio)}</text>`,
      );
    }
    if (row.cpuUsPerRequest !== undefined) {
      // PostgreSQL's share (its backends' CPU) extends the bar, lighter: the total work of a request.
      const end = cpu.x(row.cpuUsPerRequest);
      const total = cpu.x(row.cpuUsPerRequest + pgCpu(row));
      const pg = pgCpu(row) ? ` + ${fmt(pgCpu(row))} PG` : '';
      if (pgCpu(row)) {
        out.push(`<rect x="${panelB.x0}" y="${y}" width="${(total - panelB.x0).toFixed(1)}" height="${barH}" fill="${color}" opacity="0.35"/>`);
      }
      out.push(
        `<rect x="${panelB.x0}" y="${y}" width="${Math.max(1, end - panelB.x0).toFixed(1)}" height="${barH}" fill="${color}" opacity="0.85"/>`,
        `<text x="${(Math.max(end, total) + 4).toFixed(1)}" y="${y + barH - 3}" fill="#222">${escape(fmt(row.cpuUsPerRequest) + pg)}${row.scenario === 'argon2-raw' ? ' *' : ''}</text>`,
      );
    }
  });
  out.push(
    `<text x="${panelB.x0}" y="${chartBottom + 34}" fill="#777" font-size="11">* argon2-raw: the runner's own CPU per verify</text>`,
    ...(rows.some((r) => pgCpu(r))
      ? [`<text x="${panelB.x0}" y="${chartBottom + 48}" fill="#777" font-size="11">lighter: + the PostgreSQL backends' CPU</text>`]
      : []),
    `<text x="${labelX}" y="${targetsTop - 14}" font-weight="600">Targets</text>`,
  );

  report.targets.forEach((target, i) => {
    const y = targetsTop + i * 22;
    const fill = target.status === 'met' ? '#2e9e44' : target.status === 'missed' ? '#d0342c' : '#a0a0a0';
    const word = target.status === 'met' ? 'met' : target.status === 'missed' ? 'MISSED' : 'n/a';
    out.push(
      `<circle cx="${labelX + 6}" cy="${y - 4}" r="6" fill="${fill}"/>`,
      `<text x="${labelX + 20}" y="${y}" font-weight="600" fill="${fill}">${word}</text>`,
      `<text x="${labelX + 80}" y="${y}">${escape(truncate(target.name, 62))}</text>`,
      `<text x="${labelX + 470}" y="${y}" fill="#444">${escape(truncate(target.actual, 74))}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

const truncate = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
