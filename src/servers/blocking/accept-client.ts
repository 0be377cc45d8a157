/**
 * accept(2) for the per-connection models' acceptors, which start a whole thread or process for each connection:
 * a connection whose client has already closed (it gave up while it waited in the accept queue, at the cap) is
 * closed unserved and counted, and the next one is taken. Starting an isolate or a Node for it (50-200 ms here)
 * would only write an answer nobody reads; after a flood the accept queue holds up to its backlog (511) of them,
 * which at 20 contexts a second kept the server from its next live client for 25 s (test/reliability/overload).
 * A client that half-closes after its request (`nc -N`) is shed too: browsers, curl and load tools do not.
 * The models that serve from a context already running (iterative, thread pool, prefork) do not shed: a dead
 * client costs them one request's work, which they drain in well under a second.
 */
import type { ContextControl } from './context-control.js';
import type { BlockingSocketApi } from '../native.js';

/** The next connection whose client is still there; throws as accept does (EINVAL once shut down). */
export function acceptClient(api: BlockingSocketApi, listenFd: number, control: ContextControl): number {
  for (;;) {
    const fd = api.accept(listenFd);
    if (!api.peerClosed(fd)) return fd;
    api.close(fd);
    control.countShed();
  }
}
