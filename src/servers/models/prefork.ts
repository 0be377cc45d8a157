/**
 * The prefork model (Apache's prefork MPM): N processes made up front share the listening socket; each blocks in
 * accept in its main thread, serves one connection at a time over its own backend connection, and sleeps in the
 * kernel while it waits. With all N busy, new clients wait in the accept queue.
 *
 * Unlike C, a process here is a whole Node (tens of megabytes, a fork costs ~100 ms to ready), paid once, up front.
 */
import { BlockingServer, childReady } from '../blocking/blocking-server.js';
import { entryFile } from '../blocking/entries.js';
import { resolveSize } from '../blocking/size-params.js';
import { type ModelServerOptions, modelProcessTitle, type RunningServer } from './model-server.js';
import { resolveWorkload } from '../workload/workload.js';

const MAX_PROCESSES = 256;

export async function startPreforkServer(opts: ModelServerOptions): Promise<RunningServer> {
  const size = resolveSize('prefork', opts.size, { processes: { default: 4, max: MAX_PROCESSES } });
  const workload = resolveWorkload(opts.workload);
  const file = entryFile('prefork-child');
  // No thread of this process serves, so it needs no fd slots.
  const server = BlockingServer.listen(opts.host ?? '127.0.0.1', opts.port ?? 0, 0);
  try {
    const children = Array.from({ length: size.processes }, (_, index) =>
      server.forkChild(file, server.listenFd, {
        backend: opts.backend,
        workload,
        title: `${modelProcessTitle('prefork')}:worker-${index}`,
        name: `prefork-${index}`,
        acceptMs: 0,
      }),
    );
    await Promise.all(children.map(childReady));
  } catch (err) {
    await server.close();
    throw err;
  }
  return { port: server.port, close: () => server.close() };
}
