/**
 * The fork-per-connection model: an acceptor thread blocks in accept and hands each connection to the main thread,
 * which forks a new process for it; the process serves the connection (blocking) and exits, and the parent closes
 * its copy of the fd. Process creation is on the request's path. At `max_processes` alive the acceptor waits for
 * one to exit, and new clients wait in the accept queue.
 *
 * Unlike C's fork(), which copies a running process in well under a millisecond, each connection here starts a
 * whole Node from scratch (measured in test/servers/blocking-models.test.ts).
 */
import { BlockingServer } from '../blocking/blocking-server.js';
import { entryFile } from '../blocking/entries.js';
import type { HandoffMessage } from '../blocking/handoff-acceptor-thread.js';
import { blocking } from '../native.js';
import { resolveSize } from '../blocking/size-params.js';
import { type ModelServerOptions, modelProcessTitle, type RunningServer } from './model-server.js';
import { resolveWorkload } from '../workload/workload.js';
import { acceptHandOff, adoptChild } from '../../vocabulary/stage-hook.js';

/** Each process is a whole Node (tens of MB): the cap keeps a load past capacity from exhausting memory. */
const MAX_PROCESSES = 256;

export async function startForkPerConnectionServer(opts: ModelServerOptions): Promise<RunningServer> {
  const size = resolveSize('fork-per-connection', opts.size, { max_processes: { default: 32, max: MAX_PROCESSES } });
  const workload = resolveWorkload(opts.workload);
  const acceptorFile = entryFile('handoff-acceptor-thread');
  const childFile = entryFile('connection-child');
  const server = BlockingServer.listen(opts.host ?? '127.0.0.1', opts.port ?? 0, 0);
  const api = blocking();
  let serial = 0;

  const forkFor = (m: HandoffMessage): void => {
    let counted = false;
    try {
      if (server.control.stopping) return;
      const n = ++serial;
      const name = `conn-${n}`;
      const child = server.forkChild(childFile, m.fd, {
        backend: opts.backend,
        workload,
        title: `${modelProcessTitle('fork-per-connection')}:conn-${n}`,
        name,
        acceptMs: m.acceptMs,
      });
      counted = true;
      // The child lives for this connection and hands what its agent measured to this process's agent, which reads
      // its CPU from /proc until then (prefork's children export their own).
      if (child.pid !== undefined) adoptChild(child.pid, name);
      child.on('message', acceptHandOff);
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        // The acceptor may be asleep at the cap, waiting for this.
        server.control.release();
      };
      child.once('exit', release);
      // A fork that failed (EAGAIN, ENOMEM) has no pid and may never emit 'exit'.
      child.once('error', () => child.pid === undefined && release());
    } finally {
      if (!counted) server.control.release();
      // The child has its own copy once fork() returned (or none if it failed); the client sees EOF either way.
      api.close(m.fd);
    }
  };

  try {
    const acceptor = server.startThread(
      acceptorFile,
      'acceptor',
      { backend: opts.backend, workload },
      { maxProcesses: size.max_processes },
    );
    acceptor.worker.on('message', (m: HandoffMessage) => {
      if (m.type === 'connection') forkFor(m);
    });
    await acceptor.ready;
  } catch (err) {
    await server.close();
    throw err;
  }
  return { port: server.port, close: () => server.close() };
}
