/**
 * The blocking-socket addon (native/blocking_socket.c), typed. Every call blocks the calling thread in the kernel,
 * as the same call would in C; that is the point of the blocking models, so call these only from threads and
 * processes that are meant to block (never from a thread that runs an event loop others depend on). One call
 * does not block and serves every model: `threadCpuUs`, the clock the workload's CPU stages burn by (cpu-burn.ts,
 * which has another clock where the addon does not load: the models that need no blocking call run without it).
 *
 * Errors are thrown as Error with the errno name in `code` (EINVAL, ECONNRESET, EPIPE...).
 */
import { createRequire } from 'node:module';
import nodeGypBuild from 'node-gyp-build';
import { UserError } from '../vocabulary/errors.js';
import { PACKAGE_ROOT } from '../vocabulary/package-paths.js';

export interface BlockingSocketApi {
  /** A listening TCP socket with SO_REUSEADDR; `port` is the bound one (useful with port 0). */
  listen(host: string, port: number, backlog: number): { fd: number; port: number };
  /** The next connection from the accept queue (TCP_NODELAY on). Retries EINTR; EINVAL once the fd is shut down. */
  accept(fd: number): number;
  /** Without blocking: the peer has closed its side (FIN or reset), or the socket is in error (poll's POLLRDHUP). */
  peerClosed(fd: number): boolean;
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

/**
 * The blocking models (and anything else that needs the addon) cannot start here: no prebuilt binary fits this
 * platform (the package ships linux-x64) and none was compiled at install, or the one there does not load.
 */
export class AddonUnavailableError extends UserError {
  override readonly name = 'AddonUnavailableError';
  constructor(what: string, cause: unknown) {
    // node-gyp-build's "No native build was found for platform=... arch=..." or dlopen's reason, on one line.
    const reason = (cause instanceof Error ? cause.message : String(cause)).split('\n')[0].trim();
    super(
      `${what} srvlens's native addon (blocking accept, recv and send), which did not load here (${reason}): ` +
        'run `npm rebuild srvlens` to compile it (needs python3, make and a C compiler); the event-loop models and everything else run without it',
      'SRVLENS_ADDON_UNAVAILABLE',
      { cause },
    );
  }
}

/**
 * The addon file: a source build in build/Release if there is one (`npm run build:native`, or `npm rebuild srvlens`
 * where no prebuild fits), else the binary shipped in prebuilds/ for this platform (node-gyp-build's order).
 * Throws where there is neither.
 */
export function addonPath(): string {
  return nodeGypBuild.path(PACKAGE_ROOT);
}

let loaded: { api: BlockingSocketApi } | { error: unknown } | undefined;

function load(): { api: BlockingSocketApi } | { error: unknown } {
  try {
    return { api: createRequire(import.meta.url)(addonPath()) as BlockingSocketApi };
  } catch (error) {
    return { error };
  }
}

/** The addon, or null where it does not load: for what has a way without it (cpu-burn.ts's clock). */
export function addonIfLoaded(): BlockingSocketApi | null {
  loaded ??= load();
  return 'api' in loaded ? loaded.api : null;
}

/**
 * Throws AddonUnavailableError where the addon does not load; `what` begins its message ("the thread-pool model
 * needs"). Called before a blocking model starts anything, so that it refuses with the fix rather than failing in
 * a thread it started.
 */
export function requireAddon(what: string): BlockingSocketApi {
  loaded ??= load();
  if ('error' in loaded) throw new AddonUnavailableError(what, loaded.error);
  return loaded.api;
}

/** The addon, loaded on first use so that importing a model's module does not require it. */
export function blocking(): BlockingSocketApi {
  return requireAddon('the blocking models need');
}
