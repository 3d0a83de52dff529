#!/usr/bin/env node
'use strict';
// The CLI lives in the build output (npm run build): the bundle when present, else the plain compiled
// files. bin/meshcore-ingestor runs this file with the memory settings; running it directly works too.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const bundle = join(__dirname, '../dist/bundle/cli.js');
let cli;
try {
  cli = require(existsSync(bundle) ? bundle : '../dist/cli/cli.js');
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/cli.js')) {
    process.stderr.write('meshcore-ingestor: not built yet; run `npm run build` first\n');
    process.exit(2);
  }
  throw err;
}
cli.main(process.argv.slice(2));
