import 'reflect-metadata';
import { main } from './cli/cli';

// `node dist/main.js [--config FILE]` is the serve command, unbundled and without the launcher's memory
// settings; `npm start` runs bin/meshcore-ingestor serve (the bundle).
void main(['serve', ...process.argv.slice(2)]);
