import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

describe('the Node.js lines', () => {
  it('engines names exactly the lines .ci/run tests: this machine\'s 20, the newest LTS and the others', () => {
    const ci = read('.ci/run');
    const newest = /^NEWEST_LTS=(\d+)$/m.exec(ci)?.[1];
    const others = /^OTHER_LINES="([\d ]+)"$/m.exec(ci)?.[1]?.split(' ');
    expect(newest).toBeDefined();
    expect(others).toBeDefined();
    const tested = ['20', ...others!, newest!].sort((a, b) => Number(a) - Number(b));
    const engines: string = JSON.parse(read('package.json')).engines.node;
    expect(engines.split('||').map((range) => /^\^(\d+)/.exec(range.trim())?.[1])).toEqual(tested);
  });

  it('this machine runs one of them', () => {
    const engines: string = JSON.parse(read('package.json')).engines.node;
    const major = process.versions.node.split('.')[0];
    expect(engines.split('||').map((range) => range.trim().replace(/^\^/, '').split('.')[0])).toContain(major);
  });
});
