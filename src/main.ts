import 'reflect-metadata';
import { main } from './cli/cli';

// `node dist/main.js [--config FILE]` (what `npm start` and the container run) is the serve command.
void main(['serve', ...process.argv.slice(2)]);
