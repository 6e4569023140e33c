// Bundles dmctl (dist/tui/main.js, compiled by tsc) into dist/bundle/ with esbuild, run by `npm run build` after tsc
// and before the build stamp (issue #18). Why: dmctl's dashboard loads ~hundreds of ESM modules (dist/ plus ink, react,
// yoga and their dependencies); resolving and compiling each one cost most of its first paint (~1.3 s). A few split
// chunks load in about half the CPU. Code splitting keeps dmctl's lazy loading: `--help` loads main's chunk only, a
// command its own chunks, the dashboard ink and react.
//
// The agent is not bundled: it starts within its goal unbundled and its native and CJS dependencies (lmdb, zongji,
// mysql2) would stay external anyway.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'dist', 'bundle');

/** Entries bundled: bin/dist.js runs dist/bundle/NAME.js for these (its BUNDLED map must list the same names). */
const ENTRIES = { main: join(ROOT, 'dist', 'tui', 'main.js') };

/**
 * Left to node at run time: native modules (lmdb; zongji's and mysql2's optional native parts), packages that
 * require() files by computed names (node-sql-parser's grammars, pino's transports in worker threads), and
 * react-devtools-core, which ink imports only with DEV=true and which is not installed.
 */
const EXTERNAL = [
  'lmdb',
  '@vlasky/zongji',
  'node-sql-parser',
  'mysql2',
  'pino',
  'pino-pretty',
  'pino-roll',
  'prom-client',
  'tsx',
  'react-devtools-core',
];

// A stale chunk of an earlier build must never be loaded next to this build's chunks.
rmSync(OUT, { recursive: true, force: true });

await build({
  entryPoints: ENTRIES,
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  // React's production build: no development checks or warnings, noticeably less work per render.
  define: { 'process.env.NODE_ENV': '"production"' },
  // Bundled CommonJS dependencies call require() (of node: modules and each other); an ES module has none.
  banner: {
    js: "import { createRequire as __tsdmCreateRequire } from 'node:module'; const require = __tsdmCreateRequire(import.meta.url);",
  },
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'none',
  logLevel: 'warning',
});
