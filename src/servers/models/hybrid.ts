/**
 * The hybrid model (Flash's AMPED, in Node): a node:http event loop that owns every socket and the backend calls,
 * and hands each request's CPU stages (parse, process, transform) to a pool of helper threads, so that the loop
 * stays free to accept, read and write while the CPU work runs on other cores.
 *
 * The stages are marked on the main thread around each hand-off, so a stage's time includes waiting for a free
 * pool thread and the two messages of the hand-off, not only the burn: that wait is what this model adds.
 */
import http, { type ServerResponse } from 'node:http';
import { type BackendClient, connectBackend } from '../backend/backend-client.js';
import { resolveSize } from '../blocking/size-params.js';
import { CpuPool } from '../workload/cpu-pool.js';
import { listenHttp } from './listen-http.js';
import type { ModelServerOptions, RunningServer } from './model-server.js';
import { type StageRunner, WorkloadRun } from '../workload/stage-sequence.js';
import { BACKEND_REPLY_BYTES, failHttpRequest, readBody, resolveWorkload } from '../workload/workload.js';

/** Response header listing the threadIds that ran the request's CPU stages (the main thread is 0). */
export const CPU_THREADS_HEADER = 'x-srvlens-cpu-threads';
const MAX_THREADS = 64;

export async function startHybridServer(opts: ModelServerOptions): Promise<RunningServer> {
  const { host = '127.0.0.1', port = 0 } = opts;
  const { threads } = resolveSize('hybrid', opts.size, { threads: { default: 2, max: MAX_THREADS } });
  const workload = resolveWorkload(opts.workload);
  const backend = await connectBackend(opts.backend);
  let pool: CpuPool;
  try {
    pool = await CpuPool.start(new URL('./hybrid-worker.js', import.meta.url), threads);
  } catch (err) {
    await backend.close();
    throw err;
  }
  const body = Buffer.alloc(workload.response_bytes, 'x');
  const runner = hybridRunner(backend, pool, body);
  // Unlike the other models it serves its configured workload whatever the query string asks (not yet a mix's).
  const server = http.createServer((_req, res) => {
    const request: HybridRequest = { res, ran: [] };
    new WorkloadRun(runner).start(request, res, workload);
  });
  return listenHttp(server, host, port, () => Promise.all([pool.close(), backend.close()]));
}

/** A request in flight, and the threadIds that ran its CPU stages so far. */
interface HybridRequest {
  res: ServerResponse;
  ran: number[];
}

/** The stage sequence with each CPU stage run on the pool; the loop reads, calls the backend and writes. */
function hybridRunner(backend: BackendClient, pool: CpuPool, body: Buffer): StageRunner<HybridRequest> {
  return {
    // Reading the body is the loop's job (it owns the socket); parsing it is the pool's.
    read: (r) => readBody(r.res.req),
    // A stage without CPU is not handed off: the hand-off would be a cost the stage itself does not have.
    cpu: (r, us) => (us > 0 ? pool.run(us, r.ran) : undefined),
    backend: () => backend.call(BACKEND_REPLY_BYTES),
    response(r) {
      r.res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': body.length,
        [CPU_THREADS_HEADER]: r.ran.join(','),
      });
      return body;
    },
    send: (r, payload) => r.res.end(payload),
    fail: (r, err) => failHttpRequest(r.res, err),
  };
}
