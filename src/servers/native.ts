/**
 * The blocking-socket addon (native/blocking_socket.c), typed. Every call blocks the calling thread in the kernel,
 * as the same call would in C; that is the point of the blocking models, so call these only from threads and
 * processes that are meant to block (never from a thread that runs an event loop others depend on). One call
 * does not block and serves every model: `threadCpuUs`, the clock the workload's CPU stages burn by (cpu-burn.ts).
 *
 * Errors are thrown as Error with the errno name in `code` (EINVAL, ECONNRESET, EPIPE...).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../vocabulary/package-paths.js';

export interface BlockingSocketApi {
  /** A listening TCP socket with SO_REUSEADDR; `port` is the bound one (useful with port 0). */
  listen(host: string, port: number, backlog: number): { fd: number; port: number };
  /** The next connection from the accept queue (TCP_NODELAY on). Retries EINTR; EINVAL once the fd is shut down. */
  accept(fd: number): number;
  /** Bytes read into buffer[offset, offset + length); 0 at end of stream. */
  recv(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  /** Returns once every byte has been handed to the kernel. */
  sendAll(fd: number, buffer: Uint8Array): void;
  /** A connected TCP socket with TCP_NODELAY. */
  connect(host: string, port: number): number;
  close(fd: number): void;
  /** SHUT_RDWR: wakes a recv on a connection (returns 0), and every accept on a listening socket (EINVAL). */
  shutdown(fd: number): void;
  /** The kernel's id of the calling thread (/proc/PID/task/TID). */
  gettid(): number;
  /** The calling thread's CPU time (user + system), µs: CLOCK_THREAD_CPUTIME_ID, a system call (~1 µs). */
  threadCpuUs(): number;
  /** SIGKILL this process when its parent ends; false if the parent is already gone. */
  dieWithParent(parentPid: number): boolean;
}

/** An error thrown by the addon: the errno name is in `code`. */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export const ADDON_PATH = join(PACKAGE_ROOT, 'build', 'Release', 'blocking_socket.node');

function load(): BlockingSocketApi {
  if (!existsSync(ADDON_PATH)) {
    throw new Error(
      `the blocking models need the native addon ${ADDON_PATH}, which is not built: ` +
        'run `npm ci` (which builds it) or `npm rebuild` in the package root (needs python3, make and a C compiler)',
    );
  }
  return createRequire(import.meta.url)(ADDON_PATH) as BlockingSocketApi;
}

let api: BlockingSocketApi | undefined;

/** The addon, loaded on first use so that importing a model's module does not require it to be built. */
export function blocking(): BlockingSocketApi {
  api ??= load();
  return api;
}
