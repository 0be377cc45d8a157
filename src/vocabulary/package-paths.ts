/**
 * Where the compiled entry points of child processes live. Found from the package root, so the runner works the
 * same when imported from source (tests) and from dist/ (the CLI): children always run compiled JavaScript.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'srvlens') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('srvlens: cannot find the package root');
    dir = up;
  }
}

export const PACKAGE_ROOT = findRoot();
const dist = (rel: string) => join(PACKAGE_ROOT, 'dist', rel);

export const ENTRY = {
  backend: dist('src/servers/backend/backend-main.js'),
  serve: dist('src/servers/serve-main.js'),
  generator: dist('src/load/generator-process.js'),
  /** For `node --import`: a file URL, which --import resolves the same from any working directory. */
  agent: pathToFileURL(dist('agents/node/register.js')).href,
};

export function toolVersion(): string {
  return JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).version;
}
