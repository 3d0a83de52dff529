#!/usr/bin/env node
'use strict';
// Thin launcher: the CLI lives in the compiled output (npm run build).
let cli;
try {
  cli = require('../dist/cli/cli.js');
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/cli.js')) {
    process.stderr.write('meshcore-ingestor: not built yet; run `npm run build` first\n');
    process.exit(2);
  }
  throw err;
}
cli.main(process.argv.slice(2));
