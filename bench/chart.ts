/**
 * Regenerates the Markdown and SVG of saved runs: `npx tsx bench/chart.ts bench/results/results-*.json`;
 * for `--instructions` runs (`instructions-*.json`), the Markdown.
 */
import { readFileSync } from 'node:fs';
import { instructionsMarkdown, type InstructionsReport } from './lib/instructions-report.js';
import { renderFromJson, writeAtomic } from './lib/output.js';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: npx tsx bench/chart.ts <results.json>…');
  process.exit(2);
}
for (const file of files) {
  const report = JSON.parse(readFileSync(file, 'utf8')) as Partial<InstructionsReport>;
  if (report.meta && 'valgrind' in report.meta) {
    const md = file.replace(/\.json$/, '.md');
    writeAtomic(md, instructionsMarkdown(report as InstructionsReport, md));
    console.log(md);
    continue;
  }
  const written = renderFromJson(file);
  console.log(`${written.md}\n${written.svg}`);
}
