/**
 * The part of the kernel tracer's cost a pair cannot see. While any syscall tracepoint is attached (the libbpf
 * tracer has one, accept's exit; bpftrace's program several), every syscall of every process on the host takes the
 * kernel's traced path, the untraced twin's too, and bpftrace's write probes run (to their PID test) on every write:
 * both servers of a pair pay it, so their ratio leaves it out. It is measured apart: bench/syscall-cost.c's
 * per-call CPU time with and without the backend attached (alternating), and the server's syscalls per request
 * counted once under load; their product, against the server's CPU per request, is the throughput the pair missed.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PACKAGE_ROOT } from '../../src/vocabulary/package-paths.js';

const SOURCE = join(PACKAGE_ROOT, 'bench', 'syscall-cost.c');
/** Calls a run and runs a measurement (best of): ~0.1 s of syscalls a measurement, so a trial's tracer can be swapped in and out. */
const CALLS = 50_000;
const BEST_OF = 10;
/**
 * Plain / attached alternations, the least of each kept: a shared VM's ns per call moved by ~30 % from one second to
 * the next, and the medians of three alternations put one toll under 0; the least is the least disturbed.
 */
const ALTERNATIONS = 3;
/** x86_64's write, writev, sendto, sendmsg: the syscalls bpftrace's write probes run at (tracer-program.ts). */
const WRITE_SYSCALLS = [1, 20, 44, 46];

/** The microbench built for this run, or why it cannot be. */
export function buildSyscallCost(): { file: string } | { unavailable: string } {
  if (process.arch !== 'x64') return { unavailable: `syscall numbers are x86_64's (this is ${process.arch})` };
  const file = join(mkdtempSync(join(tmpdir(), 'srvlens-syscall-cost-')), 'syscall-cost');
  try {
    execFileSync('cc', ['-O2', '-o', file, SOURCE], { stdio: ['ignore', 'ignore', 'pipe'] });
    return { file };
  } catch (err) {
    return { unavailable: `cc could not build ${SOURCE}: ${(err as Error).message.split('\n')[0]}` };
  }
}

function perCall(file: string): { write: number; getppid: number } {
  const out = execFileSync(file, [String(CALLS), String(BEST_OF)], { encoding: 'utf8' });
  const m = /write ([\d.]+) ns, getppid ([\d.]+) ns/.exec(out);
  if (m === null) throw new Error(`${file}: unexpected output: ${out.trim()}`);
  return { write: Number(m[1]), getppid: Number(m[2]) };
}

/** ns of CPU a call, plain and with the backend attached: the least over the alternations. */
export interface SyscallToll {
  plain: { write: number; getppid: number };
  attached: { write: number; getppid: number };
  /** attached - plain, per write and per other syscall (getppid: the traced path alone). */
  writeNs: number;
  otherNs: number;
}

/** Alternates plain and attached runs of the microbench; `attach` starts the backend, resolving with what stops it. */
export async function measureToll(file: string, attach: () => Promise<{ stop(): Promise<unknown> }>): Promise<SyscallToll> {
  const plain: { write: number; getppid: number }[] = [];
  const attached: typeof plain = [];
  for (let i = 0; i < ALTERNATIONS; i++) {
    plain.push(perCall(file));
    const tracer = await attach();
    try {
      attached.push(perCall(file));
    } finally {
      await tracer.stop();
    }
  }
  const least = (xs: typeof plain) => ({ write: Math.min(...xs.map((x) => x.write)), getppid: Math.min(...xs.map((x) => x.getppid)) });
  const [p, a] = [least(plain), least(attached)];
  return { plain: p, attached: a, writeNs: a.write - p.write, otherNs: a.getppid - p.getppid };
}

/** Syscalls a set of processes made, all and of the write family. */
export interface SyscallCensus {
  all: number;
  writes: number;
}

/**
 * Counts every process's syscalls while `during` runs (bpftrace, one raw_syscalls probe; a counting window, never a
 * measured one), and returns those of each group of `groups` (by process: a thread's syscalls are its process's).
 */
export async function countSyscalls<T>(during: () => Promise<T>, groups: readonly (readonly number[])[]): Promise<{ census: SyscallCensus[]; value: T }> {
  const ids = WRITE_SYSCALLS.map((n) => `args->id == ${n}`).join(' || ');
  const program = `tracepoint:raw_syscalls:sys_enter { @all[pid] = count(); if (${ids}) { @writes[pid] = count(); } } BEGIN { printf("attached\\n"); }`;
  const child = spawn('bpftrace', ['-f', 'json', '-e', program], { stdio: ['ignore', 'pipe', 'ignore'] });
  const maps: Record<string, Record<string, number>> = {};
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const j = JSON.parse(line) as { type: string; data: unknown };
      if (j.type === 'printf') resolve();
      if (j.type === 'map') Object.assign(maps, j.data as Record<string, Record<string, number>>);
    });
    void exited.then(() => reject(new Error('bpftrace exited before it counted syscalls')));
  });
  try {
    const value = await during();
    return { value, census: await stopped() };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  async function stopped(): Promise<SyscallCensus[]> {
    child.kill('SIGINT');
    await exited;
    const sum = (m: Record<string, number> | undefined, pids: readonly number[]) => pids.reduce((n, p) => n + (m?.[String(p)] ?? 0), 0);
    return groups.map((pids) => ({ all: sum(maps['@all'], pids), writes: sum(maps['@writes'], pids) }));
  }
}

/**
 * ns per request the pair missed: each of the server's syscalls at the toll of its kind. A toll under 0 is noise
 * (attaching takes nothing off a syscall; bpftrace's getppid read 616 -> 555 ns once, the least of three each): 0.
 */
export function tollNsPerRequest(toll: SyscallToll, perRequest: SyscallCensus): number {
  return Math.max(0, toll.writeNs) * perRequest.writes + Math.max(0, toll.otherNs) * (perRequest.all - perRequest.writes);
}
