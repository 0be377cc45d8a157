/**
 * The kernel tracer: bpftrace run as a child process with the generated program (tracer-program.ts), over the
 * process tree of one server, its counters read at each boundary of the interval grid from bpftrace's JSON output:
 * a frame per interval (kernel-frames.ts) and a running total.
 *
 * Why bpftrace and not a libbpf program through the native addon: the program is a few dozen map updates per request
 * either way (the cost is in the kernel, the same for both), and bpftrace needs no compiler at install time nor a
 * CO-RE object per kernel; what it costs is its start (compiling the program against BTF, ~1-2 s here) and ~40 MB
 * of RSS while it runs, paid once per trace, not per request.
 *
 * When it cannot run it says exactly why (not root, no bpftrace, no tracefs, no BTF), and the caller carries on with
 * /proc alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { KernelRequests } from '../../src/vocabulary/kernel-requests.js';
import { monoMs } from '../../src/vocabulary/clock.js';
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
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * bpftrace's path, or throws KernelTracerUnavailable with the reason. Mounts tracefs when it is not (root only: the
 * tracepoints are not there without it, and it is not mounted at boot on every system).
 */
export function kernelTracerAvailability(): string {
  if (process.platform !== 'linux') throw new KernelTracerUnavailable(`kernel tracer: needs Linux (this is ${process.platform})`);
  if (process.getuid?.() !== 0) throw new KernelTracerUnavailable('kernel tracer: needs root (eBPF tracepoints); run srvlens as root to see requests from the kernel');
  const bpftrace = onPath('bpftrace');
  if (bpftrace === null) throw new KernelTracerUnavailable('kernel tracer: bpftrace is not installed (apt-get install bpftrace)');
  if (!existsSync(BTF)) throw new KernelTracerUnavailable(`kernel tracer: this kernel has no BTF (${BTF}), which the tracer reads its structures from`);
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
  return bpftrace;
}

export interface KernelTracer extends FrameSource {
  /** Everything since the start as figures. */
  total(): KernelRequests;
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
}

/**
 * Starts tracing and resolves once every probe is attached. Throws KernelTracerUnavailable, or ProcessGoneError when
 * there is no such process. bpftrace ends with this process, however it ends (the program watches it exit).
 */
export async function startKernelTracer(o: KernelTracerOptions): Promise<KernelTracer> {
  const bpftrace = kernelTracerAvailability();
  const program = tracerProgramFor(o.pid, o.intervalMs);
  const child = spawn(bpftrace, ['-f', 'json', '-e', program], { stdio: ['ignore', 'pipe', 'pipe'] });
  return await follow(child, o);
}

/** The program for the tree of `pid` as it is now (its processes, its listening ports). Throws ProcessGoneError. */
export function tracerProgramFor(pid: number, intervalMs: number): string {
  const snap = readTreeSnapshot(pid, 0);
  if (snap === null) throw new ProcessGoneError(pid);
  const ports = [...new Set((snap.tcp ?? []).filter((t) => t.state === TCP_LISTEN).map((t) => t.port))];
  return tracerProgram({ pids: snap.processes.map((p) => p.pid), ports, intervalMs, ownerPid: process.pid });
}

function follow(child: ChildProcess, o: KernelTracerOptions): Promise<KernelTracer> {
  let sink: FrameSink = () => undefined;
  const follower = new TracerFollower((i) => sink(kernelFrame(o.run ?? 0, i, o.intervalMs, o.requests ?? false)));
  let readyMs = 0;
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  // 'close', not 'exit': the output is read to its end first (its last lines are the final sums).
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // bpftrace's nsecs is CLOCK_MONOTONIC, as monoMs() is.
  const total = () => follower.total(follower.lastNs === null ? 0 : Math.max(0, follower.lastNs / 1e6 - readyMs));
  const tracer: KernelTracer = {
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
      reject(new KernelTracerUnavailable(`kernel tracer: bpftrace did not attach its probes within ${READY_TIMEOUT_MS / 1000} s`));
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
        reject(new KernelTracerUnavailable(`kernel tracer: bpftrace exited (${code}) before attaching: ${said || 'no message'}`));
      }
    });
  });
}
