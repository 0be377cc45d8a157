/**
 * The thread-pool model: N threads made up front, all blocking in accept on one listening socket (the kernel wakes
 * one per connection), each serving one connection at a time and sleeping on its own backend connection. With all
 * N busy, new clients wait in the kernel's accept queue.
 *
 * Unlike C or Java, each thread is a worker_threads isolate: megabytes of heap and tens of milliseconds to start,
 * paid here once, up front.
 */
import { BlockingServer } from '../blocking/blocking-server.js';
import { entryFile } from '../blocking/entries.js';
import { resolveSize } from '../blocking/size-params.js';
import type { ModelServerOptions, RunningServer } from './model-server.js';
import { resolveWorkload } from '../workload/workload.js';

/** Threads are isolates here (see above): past a few hundred, memory runs out before the model shows anything. */
const MAX_THREADS = 1024;

export function startThreadPoolServer(opts: ModelServerOptions): Promise<RunningServer> {
  const { threads } = resolveSize('thread-pool', opts.size, { threads: { default: 8, max: MAX_THREADS } });
  return startPool(opts, threads, (i) => `pool-${i}`);
}

/** `count` pool threads on one listening socket, named by `nameOf(index)`; the iterative server is count 1. */
export async function startPool(
  opts: ModelServerOptions,
  count: number,
  nameOf: (index: number) => string,
): Promise<RunningServer> {
  const workload = resolveWorkload(opts.workload);
  const file = entryFile('pool-thread');
  const server = BlockingServer.listen(opts.host ?? '127.0.0.1', opts.port ?? 0, count);
  try {
    const started = Array.from({ length: count }, (_, pair) =>
      server.startThread(file, nameOf(pair), { backend: opts.backend, workload }, { pair, name: nameOf(pair) }),
    );
    await Promise.all(started.map((t) => t.ready));
  } catch (err) {
    await server.close();
    throw err;
  }
  return { port: server.port, close: () => server.close() };
}
