/**
 * The main-thread side every blocking model shares: the listening socket (opened with the addon, so that its fd can
 * be handed to threads and child processes), the threads and children started on it, and a close() that leaves
 * nothing behind.
 *
 * Stopping blocked code takes the kernel's help: shutdown(2) of the listening socket wakes every accept on it, in
 * every thread and process; shutdown of the fds the threads published in ContextControl wakes their recv. Children
 * are signalled. A thread asleep in a syscall holds up even process.exit(), so the same wake-up also runs, without
 * waiting, from the process's 'exit' event.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import type { BackendAddress } from '../backend/backend-client.js';
import type { WorkloadParams } from '../../vocabulary/workload-params.js';
import { ContextControl } from './context-control.js';
import { CHILD_CONFIG_ENV, CHILD_SOCKET_FD } from './entries.js';
import { blocking } from '../native.js';

/** What every blocking thread entry gets in workerData. */
export interface ThreadData {
  control: SharedArrayBuffer;
  backend: BackendAddress;
  workload: WorkloadParams;
  listenFd: number;
}

/** What every forked child gets in CHILD_CONFIG_ENV. */
export interface ChildConfig {
  backend: BackendAddress;
  workload: WorkloadParams;
  parentPid: number;
  /** Its process title (model and role, e.g. srvlens-server:prefork:worker-2) and its main thread's name. */
  title: string;
  name: string;
  /** monoMs() when its connection was accepted (fork per connection), else 0. */
  acceptMs: number;
}

/** As node's default: the kernel caps it at net.core.somaxconn. */
const BACKLOG = 511;
/** After the stop, how long a child serving a connection gets to finish it before SIGTERM. */
const CHILD_GRACE_MS = 500;
/** After SIGTERM, how long a child gets before SIGKILL. */
const KILL_AFTER_MS = 2000;

export class BlockingServer {
  readonly control: ContextControl;
  private readonly threads = new Set<Worker>();
  private readonly children = new Set<ChildProcess>();
  private closing: Promise<void> | null = null;
  private readonly wakeOnExit = (): void => this.wake();

  private constructor(
    readonly listenFd: number,
    readonly port: number,
    threadPairs: number,
  ) {
    this.control = ContextControl.create(2 * threadPairs);
    process.on('exit', this.wakeOnExit);
  }

  /** Listens on host:port; `threadPairs` is the most threads that will serve connections at once. */
  static listen(host: string, port: number, threadPairs: number): BlockingServer {
    const { fd, port: bound } = blocking().listen(host, port, BACKLOG);
    return new BlockingServer(fd, bound, threadPairs);
  }

  /**
   * Starts a worker thread from `file`; its workerData is ThreadData plus `extra`. `ready` resolves when it posts
   * {type:'ready'} and rejects if it fails or exits first; a failure after that is a bug of ours, reported on stderr
   * rather than letting the pool shrink unseen.
   */
  startThread(file: string, name: string, w: { backend: BackendAddress; workload: WorkloadParams }, extra: object) {
    const data: ThreadData = { control: this.control.buffer, ...w, listenFd: this.listenFd, ...extra };
    const worker = new Worker(file, { workerData: data });
    this.threads.add(worker);
    let started = false;
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: { type?: string } | null) => {
        if (m?.type !== 'ready') return;
        started = true;
        resolve();
      });
      worker.on('error', (err) => {
        if (started) process.stderr.write(`srvlens: server thread ${name} failed: ${err.stack ?? err}\n`);
        else reject(err);
      });
      worker.on('exit', (code) => {
        this.threads.delete(worker);
        reject(new Error(`server thread ${name} exited (code ${code}) before it was ready`));
      });
    });
    // Nobody awaits `ready` once start() has failed for another reason.
    ready.catch(() => undefined);
    return { worker, ready };
  }

  /**
   * Forks `file` with `fd` as its fd CHILD_SOCKET_FD (shared, not copied: the same socket). The child gets this
   * process's execArgv, so an `--import` agent preload reaches it.
   */
  forkChild(file: string, fd: number, config: Omit<ChildConfig, 'parentPid'>): ChildProcess {
    const env = { ...process.env, [CHILD_CONFIG_ENV]: JSON.stringify({ ...config, parentPid: process.pid }) };
    const stdio: (number | 'ignore' | 'inherit' | 'ipc')[] = ['ignore', 'inherit', 'inherit', 'ipc', fd];
    if (stdio.length !== CHILD_SOCKET_FD + 1) throw new Error('stdio layout does not match CHILD_SOCKET_FD');
    const child = fork(file, [], { env, stdio });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    child.on('error', (err) => {
      // A fork that failed (EAGAIN, ENOMEM) has no pid and may never emit 'exit'.
      if (child.pid === undefined) this.children.delete(child);
      process.stderr.write(`srvlens: server process ${file}: ${err.message}\n`);
    });
    return child;
  }

  /** Stops accepting, wakes and ends every thread and child, then closes the listening socket. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    this.wake();
    await Promise.all([...this.threads].map(exitOf));
    // After the threads: the fork-per-connection acceptor may have handed over more connections before it stopped.
    await Promise.all([...this.children].map((child) => this.stopChild(child)));
    process.off('exit', this.wakeOnExit);
    blocking().close(this.listenFd);
    const shed = this.control.shed;
    if (shed > 0) process.stderr.write(`srvlens: ${shed} queued connections were closed unserved: their clients had gone before a context was free (accept-client.ts)\n`);
  }

  /** Synchronous and repeatable: sets the stop flag and shuts down every fd a thread or child may sleep on. */
  private wake(): void {
    const api = blocking();
    this.control.stop((fd) => api.shutdown(fd));
    try {
      api.shutdown(this.listenFd);
    } catch {
      // already shut down
    }
  }

  /**
   * A child idle in accept exits by itself once the listening socket is shut down; one blocked on a client (a
   * keep-alive connection that stays open) is signalled where it sleeps after a grace period.
   */
  private async stopChild(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const exited = exitOf(child);
    const term = setTimeout(() => child.kill('SIGTERM'), CHILD_GRACE_MS);
    const kill = setTimeout(() => child.kill('SIGKILL'), CHILD_GRACE_MS + KILL_AFTER_MS);
    await exited;
    clearTimeout(term);
    clearTimeout(kill);
  }
}

/**
 * Resolves on the 'exit' of a thread or child that has not exited yet. (Not events.once: that rejects on the
 * 'error' that precedes the exit of a thread that failed, and the stop would fail with it.)
 */
export function exitOf(emitter: Worker | ChildProcess): Promise<void> {
  return new Promise((resolve) => emitter.once('exit', () => resolve()));
}

/** Resolves on the child's 'ready' message; rejects with its 'error' message or exit. */
export function childReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown): void => {
      const msg = m as { type?: string; message?: string } | null;
      if (msg?.type === 'ready') {
        cleanup();
        resolve();
      } else if (msg?.type === 'error') {
        cleanup();
        reject(new Error(msg.message ?? 'a server process failed to start'));
      }
    };
    const onExit = (code: number | null, signal: string | null): void => {
      cleanup();
      reject(new Error(`a server process exited (${signal ?? `code ${code}`}) before it was ready`));
    };
    const cleanup = (): void => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}
