#!/usr/bin/env node
// Second build step (after `nest build`): bundles the compiled service into dist/bundle/, what the
// launcher (bin/meshcore-ingestor) runs. Why: V8 keeps every loaded module's source text on the heap.
// Unbundled, the service loads ~1 400 files (~12 MiB of source strings, a third of its idle heap);
// one minified file is ~4 MiB. Measured in README "Memory".
//
// dist/ keeps the plain compiled files: the unit tests, benchmarks and the unbundled fallback use them.
import { build } from 'esbuild';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const out = join(dist, 'bundle');

// Loaded at run time from node_modules: the native SQLite binding, and the optional packages Nest
// and its transports try to load only when their feature is used (we use none of them).
const external = [
  'better-sqlite3',
  '@nestjs/websockets',
  '@nestjs/websockets/*',
  '@nats-io/transport-node',
  'amqp-connection-manager',
  'ioredis',
  'kafkajs',
];

const entryPoints = {
  cli: join(dist, 'cli/cli.js'),
  // Beside the bundles: the preparation stage starts `preparation.worker.js` from its own folder.
  'preparation.worker': join(dist, 'modules/ingest/preparation/preparation.worker.js'),
};

rmSync(out, { recursive: true, force: true });
await build({
  entryPoints,
  outdir: out,
  bundle: true,
  platform: 'node',
  target: 'node20.19',
  format: 'cjs',
  minify: true,
  // Nest names loggers, errors and some tokens after classes.
  keepNames: true,
  // `node --enable-source-maps` maps stack traces back to src/ (off by default: it costs memory).
  sourcemap: 'linked',
  external,
  // Nest 12 ships ES modules that find optional packages with createRequire(import.meta.url).
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});

// esbuild escapes non-ASCII characters in strings but not in regular expression literals (a few
// in validator's locale tables). One such character makes V8 store the whole source as UTF-16,
// twice the memory. \uXXXX means the same character in a regex or a string; an identity escape
// (backslash + the character) is replaced whole.
for (const name of Object.keys(entryPoints).map((entry) => `${entry}.js`)) {
  const file = join(out, name);
  const source = readFileSync(file, 'utf8');
  const ascii = source.replace(/(\\*)([\u0080-\uffff])/g, (_, slashes, c) =>
    `${slashes.slice(slashes.length % 2)}\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  if (ascii !== source) writeFileSync(file, ascii);
  console.log(`bundle: dist/bundle/${name} ${(statSync(file).size / 1048576).toFixed(1)} MiB`);
}
