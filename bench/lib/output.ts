import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { markdownReport, type Report } from './report.js';
import { renderSvg } from './svg.js';

/** Writes `<name>.json`, then the Markdown and SVG generated from that JSON as written. */
export function saveReport(report: Report, dir: string, name: string): { json: string; md: string; svg: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `${name}.json`);
  writeAtomic(json, JSON.stringify(report, null, 2) + '\n');
  return renderFromJson(json);
}

/** Regenerates the Markdown and the SVG next to a saved JSON report. */
export function renderFromJson(json: string): { json: string; md: string; svg: string } {
  const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
  const svg = json.replace(/\.json$/, '.svg');
  const md = json.replace(/\.json$/, '.md');
  writeAtomic(svg, renderSvg(report));
  writeAtomic(md, markdownReport(report, basename(svg)));
  return { json, md, svg };
}

/** Writes through a temporary file and a rename: a reader never sees half a file. */
export function writeAtomic(path: string, text: string): void {
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}
