/**
 * The kernel tracer: a child process that loads BPF programs over the process tree of one server and prints their
 * running sums at each boundary of the interval grid, as JSON lines read by tracer-output.ts: a frame per interval
 * (kernel-frames.ts) and a running total. Two children print the same lines:
 *   - libbpf (native/bpf/: tracer.bpf.c and its loader srvlens-ktrace, built by native/bpf/build.sh), the default;
 *   - bpftrace running the generated program (tracer-program.ts), where the libbpf one is not built or fails to load.
 *
 * Why libbpf first, measured (bench/README.md: nginx at saturation, both backends in the same run): 2.4-3.3 µs of
 * BPF a request against bpftrace's 8.1-9.9 (the kernel's own bpf_stats, two runs), and a throughput ratio of 0.968
 * against 0.864 (medians of 10 rounds on a noisy host; the libbpf tracer served more in 8 of them). Two things make
 * the difference: bpftrace 0.17 updates no map value in place, so every field its program reads or writes is a map
 * call, where the C program keeps one struct per connection and per thread and tests the tree's PIDs in bitmaps; and
 * the C program needs no tracepoint on write(2)-like syscalls (it reads a response's first bytes at tcp:tcp_sendmsg_locked),
 * which cost every write of every process on the host ~300 ns before any program runs, a cost bpf_stats never shows.
 * It also attaches in ~0.15 s with 5 MB of RSS, where bpftrace compiles its program against BTF for 1-2 s and holds
 * ~40 MB. bpftrace stays as the fallback because it needs no compiler: the libbpf tracer is built on the machine
 * (clang, bpftool and libbpf-dev; scripts/test-deps.sh), and a kernel whose verifier or tracepoints differ may not
 * load it.
 *
 * When neither can run it says exactly why (not root, neither built nor installed, no tracefs, no BTF), and the
 * caller carries on with /proc alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { KernelRequests } from '../../src/vocabulary/kernel-requests.js';
import { monoMs } from '../../src/vocabulary/clock.js';
import { PACKAGE_ROOT } from '../../src/vocabulary/package-paths.js';
import { ProcessGoneError } from '../proc/sample-tree.js';
import { readTreeSnapshot } from '../proc/tree-snapshot.js';
import type { FrameSink, FrameSource } from '../../src/vocabulary/frame-source.js';
import { kernelFrame } from './kernel-frames.js';
import { parseTracerLine, TracerFollower } from './tracer-output.js';
import { tracerProgram } from './tracer-program.js';

const TRACEFS = '/sys/kernel/tracing';
const BTF = '/sys/kernel/btf/vmlinux';
/** TCP_LISTEN in /proc/net/tcp's st column. */
const TCP_LISTEN = 10;
/** Compiling and attaching takes 1-2 s here; a loaded host may take several. */
const READY_TIMEOUT_MS = 30_000;

/** Why the tracer cannot run here, said once, in words a person can act on. */
export class KernelTracerUnavailable extends Error {
  override name = 'KernelTracerUnavailable';
}

function onPath(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const file = join(d, name);
    if (executable(file)) return file;
  }
  return null;
}

export type TracerBackend = 'libbpf' | 'bpftrace';
/** Set to `bpftrace` or `libbpf`: that backend only (the bench compares them; a test can run on either). */
export const BACKEND_ENV = 'SRVLENS_KERNEL_TRACER';
/** The libbpf tracer's loader, where native/bpf/build.sh puts it. */
export const LOADER = join(PACKAGE_ROOT, 'native', 'bpf', 'build', 'srvlens-ktrace');

/** The child to run, and why it is not the default one when it is not. */
export interface TracerCommand {
  backend: TracerBackend;
  file: string;
  /** Why bpftrace runs instead of the libbpf tracer; null when it is the libbpf tracer, or bpftrace was asked for. */
  fallback: string | null;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const NOT_BUILT = `the libbpf tracer is not built (sh ${join(PACKAGE_ROOT, 'native', 'bpf', 'build.sh')}; needs clang, bpftool and libbpf-dev)`;

/**
 * The tracer to run here (`want`: that one only; by default $SRVLENS_KERNEL_TRACER, else libbpf, else bpftrace), or
 * throws KernelTracerUnavailable with the reason. Mounts tracefs when it is not (root only: the tracepoints are not
 * there without it, and it is not mounted at boot on every system).
 */
export function kernelTracerAvailability(want: TracerBackend | undefined = backendFromEnv(), loader = LOADER): TracerCommand {
  if (process.platform !== 'linux') throw new KernelTracerUnavailable(`kernel tracer: needs Linux (this is ${process.platform})`);
  if (process.getuid?.() !== 0) throw new KernelTracerUnavailable('kernel tracer: needs root (eBPF tracepoints); run srvlens as root to see requests from the kernel');
  if (!existsSync(BTF)) throw new KernelTracerUnavailable(`kernel tracer: this kernel has no BTF (${BTF}), which the tracer reads its structures from`);
  const command = tracerCommand(want, loader);
  if (!existsSync(join(TRACEFS, 'events'))) {
    try {
      execFileSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS], { stdio: 'ignore', timeout: 5000 });
    } catch {
      // said below
    }
    if (!existsSync(join(TRACEFS, 'events'))) {
      throw new KernelTracerUnavailable(`kernel tracer: tracefs is not mounted at ${TRACEFS} and mounting it failed (mount -t tracefs nodev ${TRACEFS})`);
    }
  }
  return command;
}

function backendFromEnv(): TracerBackend | undefined {
  const v = process.env[BACKEND_ENV];
  if (v === undefined || v === '') return undefined;
  if (v === 'libbpf' || v === 'bpftrace') return v;
  throw new KernelTracerUnavailable(`kernel tracer: ${BACKEND_ENV}=${v} is neither libbpf nor bpftrace`);
}

function tracerCommand(want: TracerBackend | undefined, loader: string, fallback: string | null = null): TracerCommand {
  if (want !== 'bpftrace') {
    if (executable(loader)) return { backend: 'libbpf', file: loader, fallback: null };
    if (want === 'libbpf') throw new KernelTracerUnavailable(`kernel tracer: ${NOT_BUILT}`);
  }
  // Asked for by name, bpftrace is no fallback, unless the libbpf tracer failed first (`fallback`).
  const why = want === 'bpftrace' ? fallback : (fallback ?? NOT_BUILT);
  const bpftrace = onPath('bpftrace');
  if (bpftrace === null) throw new KernelTracerUnavailable(`kernel tracer: ${why === null ? '' : `${why}, and `}bpftrace is not installed (apt-get install bpftrace)`);
  return { backend: 'bpftrace', file: bpftrace, fallback: why };
}

export interface KernelTracer extends FrameSource {
  /** Everything since the start as figures. */
  total(): KernelRequests;
  /** Which child is tracing. */
  readonly backend: TracerBackend;
  /** Its process (a bench charges it to the traced server's CPU budget). */
  readonly pid: number;
  /** Why bpftrace traces and not the libbpf tracer (said once by the caller), or null. */
  readonly fallback: string | null;
  /** The last interval the tracer is done with (its frame out, or left out for lost prints); -1 before the first. */
  readonly lastIndex: number;
  /** Ends the trace (what was counted until then is printed at the end) and resolves with the figures. */
  stop(): Promise<KernelRequests>;
}

export interface KernelTracerOptions {
  /** The server's root process; its descendants, present and future, are traced. */
  pid: number;
  /** The interval grid of the frames (src/vocabulary/clock.ts's intervalIndex). */
  intervalMs: number;
  /** The run the frames belong to. */
  run?: number;
  /**
   * true: frames carry the requests as `server` (source 'kernel'), for a server with no agent in it; false: only
   * the accept queue's wait, beside an agent's own request data.
   */
  requests?: boolean;
  /** That backend only; by default $SRVLENS_KERNEL_TRACER, else libbpf, falling back to bpftrace. */
  backend?: TracerBackend;
  /** The libbpf tracer's loader (tests give one that fails); LOADER by default. */
  loader?: string;
  /**
   * Runs bpftrace with its program rewritten by this (text to text) instead: a bench's ablation. Implies the
   * bpftrace backend; what the rewritten program prints is read as the tracer's would be.
   */
  rewriteProgram?: (program: string) => string;
}

/** Which backend traces, and why not the default one when it is not: for the line that says the tracer attached. */
export function tracerBackendNote(t: Pick<KernelTracer, 'backend' | 'fallback'>): string {
  return t.fallback === null ? t.backend : `${t.backend}: ${t.fallback}`;
}

/**
 * Starts tracing and resolves once every probe is attached. Throws KernelTracerUnavailable, or ProcessGoneError when
 * there is no such process. The child ends with this process, however it ends (bpftrace's program watches it exit;
 * the loader asks the kernel for a signal when its parent ends). A libbpf tracer that fails to load (a verifier
 * that rejects it on another kernel) gives way to bpftrace unless it was asked for by name.
 */
export async function startKernelTracer(o: KernelTracerOptions): Promise<KernelTracer> {
  const want = o.rewriteProgram !== undefined ? 'bpftrace' : (o.backend ?? backendFromEnv());
  const command = kernelTracerAvailability(want, o.loader);
  const tree = treeOf(o.pid);
  if (command.backend === 'bpftrace') return await startBpftrace(command, tree, o);
  try {
    const args = ['--interval-ms', String(o.intervalMs), '--pids', tree.pids.join(','), '--ports', tree.ports.join(','), '--open-ports', tree.openPorts.join(',')];
    return await follow(spawn(command.file, args, { stdio: ['ignore', 'pipe', 'pipe'] }), command, o);
  } catch (err) {
    if (want === 'libbpf' || !(err instanceof KernelTracerUnavailable)) throw err;
    return await startBpftrace(tracerCommand('bpftrace', command.file, err.message.replace(/^kernel tracer: /, '')), tree, o);
  }
}

async function startBpftrace(command: TracerCommand, tree: Tree, o: KernelTracerOptions): Promise<KernelTracer> {
  const program = (o.rewriteProgram ?? ((p: string) => p))(tracerProgram({ ...tree, intervalMs: o.intervalMs, ownerPid: process.pid }));
  return await follow(spawn(command.file, ['-f', 'json', '-e', program], { stdio: ['ignore', 'pipe', 'pipe'] }), command, o);
}

interface Tree {
  /** The processes of the tree now. */
  pids: number[];
  /** Its listening TCP ports. */
  ports: number[];
  /**
   * The local ports of its other TCP sockets (connections it opened, or accepted, before the trace): the libbpf
   * tracer looks only at sockets on ports it knows of. One opened between this look and the tracer's attach is
   * missed as an outgoing connection (its calls untimed).
   */
  openPorts: number[];
}

/** The tree of `pid` as it is now. Throws ProcessGoneError. */
function treeOf(pid: number): Tree {
  const snap = readTreeSnapshot(pid, 0);
  if (snap === null) throw new ProcessGoneError(pid);
  const tcp = snap.tcp ?? [];
  const ports = [...new Set(tcp.filter((t) => t.state === TCP_LISTEN).map((t) => t.port))];
  const openPorts = [...new Set(tcp.filter((t) => t.state !== TCP_LISTEN).map((t) => t.port))];
  return { pids: snap.processes.map((p) => p.pid), ports, openPorts };
}

function follow(child: ChildProcess, command: TracerCommand, o: KernelTracerOptions): Promise<KernelTracer> {
  const name = command.backend === 'libbpf' ? 'the libbpf tracer' : 'bpftrace';
  let sink: FrameSink = () => undefined;
  const follower = new TracerFollower((i) => sink(kernelFrame(o.run ?? 0, i, o.intervalMs, o.requests ?? false)));
  let readyMs = 0;
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  // 'close', not 'exit': the output is read to its end first (its last lines are the final sums).
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // Both print CLOCK_MONOTONIC ns (bpftrace's nsecs, the loader's clock_gettime), as monoMs() is.
  const total = () => follower.total(follower.lastNs === null ? 0 : Math.max(0, follower.lastNs / 1e6 - readyMs));
  const tracer: KernelTracer = {
    backend: command.backend,
    pid: child.pid!,
    fallback: command.fallback,
    total,
    get lastIndex() {
      return follower.lastClosed;
    },
    pipe(s: FrameSink) {
      sink = s;
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGINT');
      await exited;
      return total();
    },
  };
  return new Promise<KernelTracer>((resolve, reject) => {
    let ready = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new KernelTracerUnavailable(`kernel tracer: ${name} did not attach its probes within ${READY_TIMEOUT_MS / 1000} s`));
    }, READY_TIMEOUT_MS);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const l = parseTracerLine(line);
      if (l.kind === 'ready') {
        ready = true;
        clearTimeout(timer);
        readyMs = monoMs();
        resolve(tracer);
      } else follower.take(l);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      if (!ready) {
        const said = stderr.split('\n').filter((l) => l.trim() && !l.includes('RLIMIT_MEMLOCK')).slice(-3).join('; ');
        reject(new KernelTracerUnavailable(`kernel tracer: ${name} exited (${code}) before attaching: ${said || 'no message'}`));
      }
    });
  });
}
