// Shared by the benchmark scripts: where things are, and --name value arguments.
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const shared = resolve(root, '../shared');
/** require() relative to the project, for the compiled service in dist/. */
export const requireFromProject = createRequire(resolve(root, 'package.json'));

/** The value after --name on the command line, or the fallback. */
export function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
