import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

/** versioned-auth/client as an app's bundler ships it: one ESM file, minified. */
export async function bundleClient(): Promise<{ code: string; minified: number; gzipped: number }> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('../../src/client/index.ts', import.meta.url))],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2020',
    write: false,
    logLevel: 'silent',
  });
  const bytes = result.outputFiles[0]!.contents;
  return { code: new TextDecoder().decode(bytes), minified: bytes.length, gzipped: gzipSync(bytes, { level: 9 }).length };
}

// `npm run size`
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { minified, gzipped } = await bundleClient();
  console.log(`versioned-auth/client: ${minified} bytes minified, ${gzipped} bytes minified + gzipped (esbuild, gzip -9)`);
}
