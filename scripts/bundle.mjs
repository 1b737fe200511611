// Bundles each entry into dist/ (or the directory given) with its dependencies, as GitHub runs
// actions without node_modules.
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
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

// docker-modem loads its ssh transport (ssh2, a large library) on start, for DOCKER_HOST=ssh://
// alone. Every run pays that load before its first request: load it on first use instead.
const lazySsh = {
  name: 'lazy-ssh',
  setup(b) {
    b.onLoad({ filter: /docker-modem[\\/]lib[\\/]ssh\.js$/, namespace: 'file' }, (args) => ({
      contents: 'module.exports = function (options) { return require("./ssh.js?eager")(options); };',
      loader: 'js',
      resolveDir: path.dirname(args.path),
    }));
    // Relative to the checkout, so the bundle is the same wherever it is built.
    b.onResolve({ filter: /\?eager$/ }, (args) => ({
      path: path.relative(process.cwd(), path.join(args.resolveDir, args.path.slice(0, -'?eager'.length))),
      namespace: 'eager',
    }));
    b.onLoad({ filter: /.*/, namespace: 'eager' }, (args) => ({
      contents: readFileSync(args.path, 'utf8'),
      loader: 'js',
      resolveDir: path.dirname(path.resolve(args.path)),
    }));
  },
};

await build({
  entryPoints: { main: 'src/main.ts', pre: 'src/pre.ts', post: 'src/post.ts', cli: 'src/cli.ts', verify: 'src/verify-main.ts' },
  outdir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // The entries share code: one chunk of it, not a copy in each.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  banner: { js: `#!/usr/bin/env node\n${banner}` },
  // ssh2 (docker-modem's DOCKER_HOST=ssh://) tries an optional native addon and falls back to
  // JavaScript when it is absent, as it is here.
  external: ['*.node'],
  plugins: [lazySsh],
  legalComments: 'none',
  logLevel: 'warning',
});
