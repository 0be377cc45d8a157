/**
 * The event-loop-per-core model (nginx's workers, Node's cluster): N processes, each running the event-loop model's
 * node:http server on the same port. The primary process only starts, watches and stops them.
 *
 * Who accepts is the policy: 'none' (the default) lets every worker accept on the shared listening socket and the
 * kernel decides who wakes, as nginx does without accept_mutex; 'rr' has the primary accept every connection and
 * pass it round-robin to the workers over IPC, which spreads evenly but puts the primary on every connection's path.
 *
 * Workers are whole Node processes (tens of MB and ~100 ms each to start), not the light forks of a C server; they
 * are made up front, so the cost is paid once at startup, not per request.
 */
import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { resolveSize } from '../blocking/size-params.js';
import { ServerConfigError } from '../errors.js';
import { PER_CORE_CONFIG_ENV, PER_CORE_INDEX_ENV, STOP_MESSAGE, type WorkerMessage } from './event-loop-per-core-worker.js';
import { modelProcessTitle, type ModelServerOptions, type RunningServer } from './model-server.js';

const MODEL = 'event-loop-per-core';
const MAX_PROCESSES = 64;
/** A worker that has not exited this long after being asked to stop is killed. */
const STOP_GRACE_MS = 3000;
const POLICIES = { none: cluster.SCHED_NONE, rr: cluster.SCHED_RR } as const;

/** cluster's policy is fixed at the first fork, for the whole process: remember it to refuse a different one later. */
let policyInUse: string | null = null;

function resolvePolicy(policy: string | undefined): keyof typeof POLICIES {
  const p = policy ?? 'none';
  if (!Object.hasOwn(POLICIES, p)) {
    throw new ServerConfigError(`${MODEL} policy must be one of ${Object.keys(POLICIES).join(', ')}, got '${p}'`);
  }
  if (policyInUse !== null && policyInUse !== p) {
    throw new ServerConfigError(`${MODEL}: this process already runs policy '${policyInUse}'; node:cluster cannot change it`);
  }
  return p as keyof typeof POLICIES;
}

export async function startEventLoopPerCoreServer(opts: ModelServerOptions): Promise<RunningServer> {
  if (!cluster.isPrimary) throw new Error(`${MODEL} must be started in a cluster primary, not in a worker`);
  const { processes } = resolveSize(MODEL, opts.size, {
    processes: { default: Math.min(os.availableParallelism(), MAX_PROCESSES), max: MAX_PROCESSES },
  });
  const policy = resolvePolicy(opts.policy);
  cluster.schedulingPolicy = POLICIES[policy];
  policyInUse = policy;
  // exec: the worker entry, compiled JS beside this file. execArgv is left to its default, process.execArgv, so
  // the agent's --import reaches every worker as it reached the primary.
  cluster.setupPrimary({ exec: fileURLToPath(new URL('./event-loop-per-core-worker.js', import.meta.url)) });
  process.title = `${modelProcessTitle(MODEL)}:primary`;

  const config = JSON.stringify({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0, workload: opts.workload, backend: opts.backend });
  const workers = Array.from({ length: processes }, (_, n) =>
    cluster.fork({ [PER_CORE_CONFIG_ENV]: config, [PER_CORE_INDEX_ENV]: String(n) }),
  );
  let stopping = false;
  const stop = () => {
    stopping = true;
    return Promise.all(workers.map(stopWorker));
  };
  let ports: number[];
  try {
    ports = await Promise.all(workers.map(workerReady));
  } catch (err) {
    await stop();
    throw err;
  }
  // With port 0 cluster hands every worker the same listening socket; anything else would be a split server.
  if (new Set(ports).size !== 1) {
    await stop();
    throw new Error(`${MODEL}: workers listen on different ports (${ports.join(', ')})`);
  }
  for (const [n, w] of workers.entries()) {
    // No restart: a reference server that hides a crash would measure the restart, not the model.
    w.on('exit', (code, signal) => {
      if (!stopping) process.stderr.write(`${MODEL}: worker-${n} (pid ${w.process.pid}) exited (${signal ?? code})\n`);
    });
  }
  return { port: ports[0], close: async () => void (await stop()) };
}

/** Resolves with the worker's port once it listens; rejects with its startup error or its early exit. */
function workerReady(worker: Worker): Promise<number> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: WorkerMessage) => {
      if (m?.type === 'ready') done(() => resolve(m.port));
      else if (m?.type === 'error') done(() => reject(new ServerConfigError(m.message)));
    };
    const onExit = (code: number | null, signal: string | null) =>
      done(() => reject(new Error(`${MODEL} worker (pid ${worker.process.pid}) exited before listening (${signal ?? code})`)));
    const done = (settle: () => void) => {
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      settle();
    };
    worker.on('message', onMessage);
    worker.on('exit', onExit);
  });
}

async function stopWorker(worker: Worker): Promise<void> {
  if (worker.isDead()) return;
  const exited = once(worker, 'exit');
  if (worker.isConnected()) worker.send(STOP_MESSAGE);
  else worker.process.kill('SIGTERM');
  const timer = setTimeout(() => worker.process.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
