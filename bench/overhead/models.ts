/**
 * The servers the overhead bench measures, and the load that saturates each one fairly: the same for every variant,
 * so the ratios compare the instrumentation and nothing else.
 */
import type { ModelId } from '../../src/vocabulary/model-ids.js';
import type { WorkloadId } from './workloads.js';

export interface BenchModel {
  /** A reference model's id, or the plain app's. */
  id: Extract<ModelId, 'event-loop' | 'thread-pool' | 'prefork'> | 'plain-app';
  /** ModelServerOptions.size; none for the event loop and the plain app. */
  size?: Record<string, number>;
  /** autocannon's connections, all keep-alive. */
  connections: number;
  /** Seconds of load before the measured ones: until one-off start costs are over (see WARMUP below). */
  warmupSeconds: number;
  /**
   * Whether requests go through node:http. Where they do not (the server reads and writes its sockets itself),
   * OpenTelemetry's HttpInstrumentation makes no server span: its figure is then the cost of a loaded SDK alone.
   */
  nodeHttp: boolean;
  /**
   * Null where the server's first process serves the requests. Where processes it forked serve them (prefork's
   * workers), why a preload there cannot be asked over IPC what it saw. Either way the server is its whole process
   * tree: each process loads the variant's preload, the agent in each exports on its own (summed), and CPU per
   * request is over every process.
   */
  preloadUnreachable: string | null;
  /** SRVLENS_MODEL in the agent's variants. */
  agentModel: ModelId;
  /** The workloads it runs, in order. */
  workloads: readonly WorkloadId[];
  /** Why this load, for the report. */
  load: string;
}

/**
 * Warm-up: the measured seconds must see the steady state, not the start. Two one-off costs fall in the first
 * seconds of load: the agent thread loading its OTLP exporter, and V8 compiling the hot code, the agent's with the
 * server's, in every isolate. One event-loop isolate at thousands of requests a second is done within 3 s. The thread
 * pool's nine isolates, each at a few hundred requests a second, are not: measured per 2 s over 30 s of its default
 * workload (V8's compiler threads' CPU per request), TurboFan was still compiling for 12-16 s, both with and without
 * the agent, and longer with it (its own functions, in eight more isolates). With 3 s those compilations fell into
 * the measured window and read as 6-8 % of agent overhead; after them the difference was ~2 %.
 */
const WARMUP = { oneIsolate: 3, threadPool: 16 } as const;

/** The tour's thread pool and prefork (scenarios/tour.yaml: thread-pool-8, prefork-4). */
const POOL_THREADS = 8;
const PREFORK_PROCESSES = 4;

export const BENCH_MODELS: Readonly<Record<BenchModel['id'], BenchModel>> = {
  'event-loop': {
    id: 'event-loop',
    connections: 50,
    warmupSeconds: WARMUP.oneIsolate,
    nodeHttp: true,
    preloadUnreachable: null,
    agentModel: 'event-loop',
    workloads: ['hello', 'default'],
    load: '50 keep-alive connections: far more than one thread needs to stay busy',
  },
  'thread-pool': {
    id: 'thread-pool',
    size: { threads: POOL_THREADS },
    // A pool thread serves its connection request after request until the client closes it (serve-connection.ts),
    // so a keep-alive connection holds a thread for the whole run: one connection per thread keeps every thread
    // busy, and a connection more would wait in the accept queue until autocannon's timeout (10 s).
    connections: POOL_THREADS,
    warmupSeconds: WARMUP.threadPool,
    nodeHttp: false,
    preloadUnreachable: null,
    agentModel: 'thread-pool',
    workloads: ['hello', 'default'],
    load: `${POOL_THREADS} keep-alive connections, one per pool thread (a thread serves its connection to the end)`,
  },
  prefork: {
    id: 'prefork',
    size: { processes: PREFORK_PROCESSES },
    // As the pool's threads: a worker serves its connection until the client closes it (prefork-child.ts).
    connections: PREFORK_PROCESSES,
    // Four isolates (one a worker) at a quarter of the rate each, like the pool's nine at an eighth: its warm-up,
    // not measured apart for prefork.
    warmupSeconds: WARMUP.threadPool,
    nodeHttp: false,
    preloadUnreachable: "its workers' only thread blocks in accept (prefork-child.ts), so no preload there answers over IPC",
    agentModel: 'prefork',
    workloads: ['hello', 'default'],
    load: `${PREFORK_PROCESSES} keep-alive connections, one per worker process (a worker serves its connection to the end)`,
  },
  // An application as users write it (plain-app.ts: no srvlens import, no stage marks), whose handler waits on an
  // outgoing HTTP call: the agent's automatic downstream timing runs here, and with it the AsyncLocalStorage that
  // every async operation of the app then pays for. The reference servers never pay it: they mark their own stages,
  // and their backend client is raw TCP, which no client channel reports.
  'plain-app': {
    id: 'plain-app',
    connections: 50,
    warmupSeconds: WARMUP.oneIsolate,
    nodeHttp: true,
    preloadUnreachable: null,
    agentModel: 'event-loop',
    workloads: ['http', 'fetch'],
    load: '50 keep-alive connections, as for the event loop, to an unmodified node:http app (plain-app.ts) that makes one outgoing call per request',
  },
};

export const BENCH_MODEL_IDS = Object.keys(BENCH_MODELS) as BenchModel['id'][];
