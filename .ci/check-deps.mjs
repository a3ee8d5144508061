// Fails when the lock lets in a dependency version with a known advisory we guard against:
// fast-jwt before 6.3.4 and cookie before 0.7.0. Reads package-lock.json, every copy.
import { readFileSync } from 'node:fs';

const MINIMUM = { 'fast-jwt': '6.3.4', cookie: '0.7.0' };
const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8'));

const parse = (version) => version.split(/[.+-]/).slice(0, 3).map(Number);
const atLeast = (version, minimum) => {
  const [a, b] = [parse(version), parse(minimum)];
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
};

let failed = false;
for (const [name, minimum] of Object.entries(MINIMUM)) {
  const copies = Object.entries(lock.packages)
    .filter(([path]) => path === `node_modules/${name}` || path.endsWith(`/node_modules/${name}`))
    .map(([path, entry]) => ({ path, version: entry.version }));
  if (copies.length === 0) {
    console.log(`${name}: not in the lock`);
    failed = true;
  }
  for (const { path, version } of copies) {
    const ok = atLeast(version, minimum);
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${path} ${version} (needs >= ${minimum})`);
    failed ||= !ok;
  }
}
process.exit(failed ? 1 : 0);
