/** Regenerates the Markdown and SVG of saved runs: `npx tsx bench/chart.ts bench/results/results-*.json`. */
import { renderFromJson } from './lib/output.js';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: npx tsx bench/chart.ts <results.json>…');
  process.exit(2);
}
for (const file of files) {
  const written = renderFromJson(file);
  console.log(`${written.md}\n${written.svg}`);
}
