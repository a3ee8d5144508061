import { spawnSync } from 'node:child_process';
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

describe('in a Node process', () => {
  it('keeps nothing alive: a signed-in client with its refresh timer and a cookie-transport client with its channel let the process exit', () => {
    const script = `
      import { createClient } from 'versioned-auth/client';
      const tokens = { tokenType: 'Bearer', accessToken: 'a', expiresIn: 900, refreshToken: 'r', refreshExpiresIn: 9, user: { id: '1', email: 'e' } };
      const fetch = async () => new Response(JSON.stringify(tokens), { status: 200 });
      await createClient({ baseUrl: 'http://127.0.0.1:1', transport: 'body', fetch }).signIn({ email: 'e', password: 'p' });
      await createClient({ baseUrl: 'http://127.0.0.1:1', transport: 'cookie', fetch }).signIn({ email: 'e', password: 'p' });
      console.log('signed in');
    `;
    // The timeout only bounds a broken run (a process kept alive), it measures nothing.
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('signed in');
    expect(run.signal).toBeNull();
    expect(run.status).toBe(0);
  });
});
