/**
 * The hybrid model (Flash's AMPED, in Node): a node:http event loop that owns every socket and the backend calls,
 * and hands each request's CPU stages (parse, process, transform) to a pool of helper threads, so that the loop
 * stays free to accept, read and write while the CPU work runs on other cores.
 *
 * The stages are marked on the main thread around each hand-off, so a stage's time includes waiting for a free
 * pool thread and the two messages of the hand-off, not only the burn: that wait is what this model adds.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { STAGE } from '../../vocabulary/parts.js';
import { markStage } from '../../vocabulary/stage-hook.js';
import { type BackendClient, connectBackend } from '../backend/backend-client.js';
import { resolveSize } from '../blocking/size-params.js';
import { CpuPool } from '../workload/cpu-pool.js';
import { listenHttp } from './listen-http.js';
import type { ModelServerOptions, RunningServer } from './model-server.js';
import type { WorkloadParams } from '../../vocabulary/workload-params.js';
import { BACKEND_REPLY_BYTES, resolveWorkload } from '../workload/workload.js';

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
  const server = http.createServer((req, res) => void serve(req, res, { workload, backend, pool, body }));
  return listenHttp(server, host, port, () => Promise.all([pool.close(), backend.close()]));
}

interface Hybrid {
  workload: WorkloadParams;
  backend: BackendClient;
  pool: CpuPool;
  body: Buffer;
}

/** The workload of workload.ts, with each CPU stage run on the pool. Never throws: a failure answers 502. */
async function serve(req: IncomingMessage, res: ServerResponse, m: Hybrid): Promise<void> {
  const w = m.workload;
  const ran: number[] = [];
  // A stage without CPU is not handed off: the hand-off would be a cost the stage itself does not have.
  const burn = async (us: number) => void (us > 0 && ran.push(await m.pool.run(us)));
  try {
    markStage(res, STAGE.parse);
    if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) {
      for await (const _chunk of req) {
        // drain: reading the body is the loop's job (it owns the socket); parsing it is the pool's
      }
    }
    await burn(w.parse_us);
    markStage(res, STAGE.process);
    await burn(w.process_us);
    if (w.backend_calls > 0) {
      markStage(res, STAGE.downstream);
      for (let i = 0; i < w.backend_calls; i++) await m.backend.call(BACKEND_REPLY_BYTES);
    }
    markStage(res, STAGE.transform);
    await burn(w.transform_us);
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': m.body.length,
      [CPU_THREADS_HEADER]: ran.join(','),
    });
    markStage(res, STAGE.send);
    res.end(m.body);
  } catch (err) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const message = `srvlens workload failed: ${err instanceof Error ? err.message : String(err)}\n`;
    res.writeHead(502, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(message) });
    res.end(message);
  }
}
