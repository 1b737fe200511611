// Bundles each entry into dist/ (or the directory given) with its dependencies, as GitHub runs
// actions without node_modules.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const outdir = process.argv[2] ?? 'dist';
// Chunk names carry a content hash: start empty, so no stale chunk stays behind.
rmSync(outdir, { recursive: true, force: true });

// CommonJS dependencies call require() for Node built-ins and use __dirname, which an ES module
// bundle lacks.
const banner = [
  "import { createRequire as __bfCreateRequire } from 'node:module';",
  "import { fileURLToPath as __bfFileURLToPath } from 'node:url';",
  'const require = __bfCreateRequire(import.meta.url);',
  'const __dirname = __bfFileURLToPath(new URL(".", import.meta.url));',
].join(' ');

await build({
  entryPoints: { main: 'src/main.ts', post: 'src/post.ts', cli: 'src/cli.ts' },
  outdir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // main, post and cli share most code: one chunk of it, not three copies.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  banner: { js: `#!/usr/bin/env node\n${banner}` },
  // ssh2 (docker-modem's DOCKER_HOST=ssh://) tries an optional native addon and falls back to
  // JavaScript when it is absent, as it is here.
  external: ['*.node'],
  legalComments: 'none',
  logLevel: 'warning',
});
