/**
 * The thread-per-connection model: an acceptor thread blocks in accept and starts a new thread for each
 * connection, which serves it (blocking on the client and the backend) and ends with it. Thread creation is on the
 * request's path. At `max_threads` alive the acceptor waits for one to end, and new clients wait in the accept
 * queue.
 *
 * Unlike C or Java, a thread here is a worker_threads isolate, started from scratch for each connection: its start
 * costs milliseconds, not microseconds (measured in test/servers/blocking-models.test.ts).
 */
import { BlockingServer } from '../blocking/blocking-server.js';
import { entryFile } from '../blocking/entries.js';
import { resolveSize } from '../blocking/size-params.js';
import type { ModelServerOptions, RunningServer } from './model-server.js';
import { resolveWorkload } from '../workload/workload.js';

const MAX_THREADS = 1024;

export async function startThreadPerConnectionServer(opts: ModelServerOptions): Promise<RunningServer> {
  const size = resolveSize('thread-per-connection', opts.size, { max_threads: { default: 64, max: MAX_THREADS } });
  const workload = resolveWorkload(opts.workload);
  const acceptorFile = entryFile('spawning-acceptor-thread');
  const connectionFile = entryFile('connection-thread');
  const server = BlockingServer.listen(opts.host ?? '127.0.0.1', opts.port ?? 0, size.max_threads);
  try {
    const acceptor = server.startThread(
      acceptorFile,
      'acceptor',
      { backend: opts.backend, workload },
      { maxThreads: size.max_threads, connectionFile },
    );
    await acceptor.ready;
  } catch (err) {
    await server.close();
    throw err;
  }
  return { port: server.port, close: () => server.close() };
}
