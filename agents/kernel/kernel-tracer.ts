/**
 * The kernel tracer: bpftrace run as a child process with the generated program (tracer-program.ts), over the
 * process tree of one server, its counters read once per interval from bpftrace's JSON output and summed.
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
import { addCounters, kernelRequests, parseTracerLine, zeroCounters, type ProgramCounters } from './tracer-output.js';
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

export interface KernelTracer {
  /** Everything since the start as figures. */
  total(): KernelRequests;
  /** Ends the trace (the interval in progress is printed at the end) and resolves with the figures. */
  stop(): Promise<KernelRequests>;
}

export interface KernelTracerOptions {
  /** The server's root process; its descendants, present and future, are traced. */
  pid: number;
  intervalMs: number;
}

/**
 * Starts tracing and resolves once every probe is attached. Throws KernelTracerUnavailable, or ProcessGoneError when
 * there is no such process. bpftrace ends with this process, however it ends (the program watches it exit).
 */
export async function startKernelTracer(o: KernelTracerOptions): Promise<KernelTracer> {
  const bpftrace = kernelTracerAvailability();
  const snap = readTreeSnapshot(o.pid, 0);
  if (snap === null) throw new ProcessGoneError(o.pid);
  const ports = [...new Set((snap.tcp ?? []).filter((t) => t.state === TCP_LISTEN).map((t) => t.port))];
  const program = tracerProgram({ pids: snap.processes.map((p) => p.pid), ports, intervalMs: o.intervalMs, ownerPid: process.pid });
  const child = spawn(bpftrace, ['-f', 'json', '-e', program], { stdio: ['ignore', 'pipe', 'pipe'] });
  return await follow(child);
}

function follow(child: ChildProcess): Promise<KernelTracer> {
  /** The counters of the interval being printed, and the sum of those printed whole, over `spanMs`. */
  let current = zeroCounters();
  let sum = zeroCounters();
  let spanMs = 0;
  let lastTickMs = 0;
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const tracer: KernelTracer = {
    total: () => kernelRequests(sum, spanMs),
    async stop() {
      if (child.exitCode === null) child.kill('SIGINT');
      await exited;
      return tracer.total();
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
        // bpftrace's nsecs is CLOCK_MONOTONIC, as monoMs() is: the first interval is counted from here.
        lastTickMs = monoMs();
        resolve(tracer);
      } else if (l.kind === 'counter') {
        current[l.name] = l.value;
      } else if (l.kind === 'tick') {
        const endMs = l.ns / 1e6;
        sum = addCounters(sum, current);
        spanMs += Math.max(0, endMs - lastTickMs);
        lastTickMs = endMs;
        current = zeroCounters();
      }
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
