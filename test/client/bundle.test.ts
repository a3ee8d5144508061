import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bundleClient } from './bundle.js';

describe('versioned-auth/client as shipped', () => {
  it('bundles to at most 4 KiB minified and gzipped, with nothing imported', async () => {
    const { code, gzipped } = await bundleClient();
    expect(gzipped).toBeLessThanOrEqual(4096);
    expect(code).not.toMatch(/\bimport\s*[\s{*("'`]|\brequire\s*\(/);
  });

  it('the built files import only each other (zero runtime dependencies)', () => {
    const dir = new URL('../../dist/client/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.js'));
    expect(files).toContain('index.js');
    for (const file of files) {
      const source = readFileSync(new URL(file, dir), 'utf8');
      const specifiers = [...source.matchAll(/\b(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(?\s*['"]([^'"]+)['"]/g)].map(
        (m) => m[1] ?? m[2],
      );
      for (const specifier of specifiers) expect(specifier, `${file} imports ${specifier}`).toMatch(/^\.\/[\w-]+\.js$/);
    }
  });

  it('is the package export versioned-auth/client', async () => {
    const client = await import('versioned-auth/client');
    expect(typeof client.createClient).toBe('function');
    expect(typeof client.AuthApiError).toBe('function');
  });
});
