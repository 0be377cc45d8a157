/**
 * The iterative model: one thread accepts one connection, serves it to its end (sleeping in the kernel on the
 * client and on the backend), then accepts the next; meanwhile every other client waits in the kernel's accept
 * queue. It is a pool of one thread, and runs in a worker thread so that the process's main thread stays free
 * for close() and signals.
 */
import { resolveSize } from '../blocking/size-params.js';
import type { ModelServerOptions, RunningServer } from './model-server.js';
import { startPool } from './thread-pool.js';

export function startIterativeServer(opts: ModelServerOptions): Promise<RunningServer> {
  resolveSize('iterative', opts.size, {});
  return startPool(opts, 1, () => 'iter');
}
