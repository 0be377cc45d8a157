/**
 * The loop of a thread or process that owns no connection between requests: block in accept(2) on the shared
 * listening socket, serve the connection to its end, close it, accept the next. While it serves, further clients
 * wait in the kernel's accept queue (or go to another context blocked in accept on the same socket: the kernel
 * wakes one of them).
 */
import { monoMs } from '../../vocabulary/clock.js';
import type { ContextControl } from './context-control.js';
import { blocking, errnoCode } from '../native.js';
import { type ServingContext, serveConnection } from './serve-connection.js';

/** Out of fds: a C server sleeps a little and tries again rather than spin on the queued connection. */
const FD_EXHAUSTED_PAUSE_MS = 100;
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Returns when the listening socket is shut down (the server is stopping). `wake`: where this thread publishes its
 * connection's fd so a stopper can wake it (threads); a process is stopped by signal instead.
 */
export function acceptLoop(listenFd: number, ctx: ServingContext, wake?: { control: ContextControl; slot: number }): void {
  const api = blocking();
  for (;;) {
    let fd: number;
    try {
      fd = api.accept(listenFd);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'EMFILE' || code === 'ENFILE' || code === 'ENOBUFS' || code === 'ENOMEM') {
        Atomics.wait(pause, 0, 0, FD_EXHAUSTED_PAUSE_MS);
        continue;
      }
      if (code === 'EINVAL' || code === 'EBADF') return; // shut down: the server is stopping
      throw err;
    }
    const acceptMs = monoMs();
    if (wake !== undefined && !wake.control.publish(wake.slot, fd)) {
      api.close(fd);
      return;
    }
    try {
      serveConnection(fd, acceptMs, ctx);
    } finally {
      wake?.control.retract(wake.slot);
      api.close(fd);
    }
  }
}
