/**
 * The compiled files the blocking models start as threads and processes. Threads and forks run JavaScript from
 * dist/ whether the model was imported from source (tests) or from dist/ (the CLI): a Worker cannot start a .ts
 * file, and a file (not `eval`) is what lets the `--import` agent preload reach the thread.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../vocabulary/package-paths.js';

const DIR = join(PACKAGE_ROOT, 'dist', 'src', 'servers', 'blocking');

export type EntryName =
  | 'pool-thread'
  | 'spawning-acceptor-thread'
  | 'connection-thread'
  | 'handoff-acceptor-thread'
  | 'prefork-child'
  | 'connection-child';

/** The entry's path; throws naming the build step when dist/ lacks it. */
export function entryFile(name: EntryName): string {
  const file = join(DIR, `${name}.js`);
  if (!existsSync(file)) throw new Error(`${file} is missing: build srvlens first (\`npx tsc -p .\`)`);
  return file;
}

/** The environment variable carrying a forked child's config (JSON), and the fd its socket arrives on. */
export const CHILD_CONFIG_ENV = 'SRVLENS_BLOCKING_CHILD';
export const CHILD_SOCKET_FD = 4;
