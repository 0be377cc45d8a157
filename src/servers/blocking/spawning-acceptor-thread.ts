/**
 * The acceptor of the thread-per-connection model: blocks in accept, and starts a new thread for each connection,
 * up to `maxThreads` alive; at the cap it sleeps (Atomics.wait) until one ends, and meanwhile new clients wait in
 * the kernel's accept queue. The threads are its children: an ended thread is reclaimed, and one that failed to
 * start is cleaned up, in this thread's event loop, which it turns between accepts and every CAP_WAKE_MS at the cap.
 * On stop it waits for them all to end.
 */
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { monoMs } from '../../vocabulary/clock.js';
import { exitOf, type ThreadData } from './blocking-server.js';
import { ContextControl, connSlot } from './context-control.js';
import { nameThisThread } from './context-name.js';
import type { ConnectionThreadData } from './connection-thread.js';
import { blocking, errnoCode } from '../native.js';
import { acceptClient } from './accept-client.js';

export interface SpawningAcceptorData extends ThreadData {
  maxThreads: number;
  connectionFile: string;
}

const data = workerData as SpawningAcceptorData;
const control = new ContextControl(data.control);
const api = blocking();
const live = new Set<Worker>();
nameThisThread('acceptor');
parentPort?.postMessage({ type: 'ready' });

/** A pair of fd slots no live connection thread holds; there is one, since fewer than maxThreads are alive. */
function freePair(): number {
  for (let pair = 0; pair < data.maxThreads; pair++) if (control.isFree(connSlot(pair))) return pair;
  throw new Error('no free slot below the thread cap: a connection thread ended without retracting its fd');
}

/** At the cap, how often this thread turns its event loop, where ended threads are reclaimed. */
const CAP_WAKE_MS = 100;
const turnLoop = (): Promise<unknown> => new Promise((resolve) => setImmediate(resolve));

/** Undoes what the connection thread would have at its end; for one that never ran (its modules failed to load). */
function cleanUpFor(pair: number, fd: number): void {
  control.retract(connSlot(pair));
  api.close(fd);
  control.release();
}

function startConnectionThread(fd: number, acceptMs: number, pair: number, name: string): void {
  const { control: buffer, backend, workload, listenFd } = data;
  const threadData: ConnectionThreadData = { control: buffer, backend, workload, listenFd, fd, acceptMs, pair, name };
  let worker: Worker;
  try {
    worker = new Worker(data.connectionFile, { workerData: threadData });
  } catch (err) {
    // Out of memory or threads: this client is dropped, as a C server's failed pthread_create would drop it.
    process.stderr.write(`srvlens: cannot start server thread ${name}: ${err instanceof Error ? err.message : err}\n`);
    cleanUpFor(pair, fd);
    return;
  }
  live.add(worker);
  let running = false;
  worker.on('message', (m: { type?: string } | null) => {
    if (m?.type === 'running') running = true;
  });
  worker.on('error', (err) => process.stderr.write(`srvlens: server thread ${name} failed: ${err.stack ?? err}\n`));
  // Messages a thread posted are delivered before its 'exit'.
  worker.on('exit', () => {
    live.delete(worker);
    // The cap counts threads that exist, not threads that serve: one that ended its connection holds its isolate
    // until it has exited.
    if (!running) cleanUpFor(pair, fd);
    else control.release();
  });
}

let serial = 0;
for (;;) {
  const got = control.acquire(data.maxThreads, CAP_WAKE_MS);
  if (got === 'stopped') break;
  if (got === 'timeout') {
    await turnLoop();
    continue;
  }
  let fd: number;
  try {
    fd = acceptClient(api, data.listenFd, control);
  } catch (err) {
    control.release();
    if (errnoCode(err) === 'EINVAL' || errnoCode(err) === 'EBADF') break; // shut down: stopping
    throw err;
  }
  const acceptMs = monoMs();
  const pair = freePair();
  if (!control.publish(connSlot(pair), fd)) {
    api.close(fd);
    control.release();
    break;
  }
  startConnectionThread(fd, acceptMs, pair, `conn-${++serial}`);
  // One turn of this thread's event loop between accepts: ended threads are reclaimed and their errors reported.
  await turnLoop();
}
await Promise.all([...live].map(exitOf));
