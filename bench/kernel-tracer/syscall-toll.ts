/**
 * The part of the kernel tracer's cost a pair cannot see. While any syscall tracepoint is attached (the libbpf
 * tracer has one, accept's exit; bpftrace's program several), every syscall of every process on the host takes the
 * kernel's traced path, the untraced twin's too; and every tracepoint the tracer attaches (the socket, TCP and sched
 * ones, bpftrace's write probes) runs its program to its PID test on the twin's events as well. Both servers of a
 * pair pay that, so their ratio leaves it out. It is measured apart: bench/syscall-cost.c's CPU time a call and an
 * exchange on an untraced loopback TCP connection, with and without the backend attached (alternating), and the
 * server's syscalls per request counted once under load; what that makes per request, against the server's CPU per
 * request, is the throughput the pair missed.
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
 * Plain / attached alternations by default, the least of each kept: a shared VM's ns per call moved by ~30 % from
 * one second to the next, and the medians of three alternations put one toll under 0; the least is the least disturbed.
 */
export const TOLL_ALTERNATIONS = 3;
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

function perCall(file: string): Calls {
  const out = execFileSync(file, [String(CALLS), String(BEST_OF)], { encoding: 'utf8' });
  const m = /write ([\d.]+) ns, getppid ([\d.]+) ns, tcp exchange ([\d.]+) ns/.exec(out);
  if (m === null) throw new Error(`${file}: unexpected output: ${out.trim()}`);
  return { write: Number(m[1]), getppid: Number(m[2]), exchange: Number(m[3]) };
}

/** ns of CPU a call, plain and with a backend attached: the least over the alternations. */
export interface SyscallToll {
  plain: Calls;
  attached: Calls;
  /** attached - plain, per write and per other syscall (getppid: the traced path alone). */
  writeNs: number;
  otherNs: number;
  /** attached - plain, per exchange on an untraced TCP connection: its syscalls and its socket events' early exits. */
  exchangeNs: number;
}

/**
 * A settle after a backend stops, before the next plain run: the plain runs right after bpftrace's exit read ~130 ns
 * slower than those after the libbpf tracer's (616-676 against 457-501 ns a getppid, three runs), as if its probes
 * outlived it for a while, which put its toll under 0.
 */
const SETTLE_MS = 1000;

/** ns of CPU: a write, a getppid, an exchange of a request and its answer on loopback TCP (both ends). */
type Calls = { write: number; getppid: number; exchange: number };

/**
 * Alternates plain runs of the microbench with runs under each backend (`attach` starts one, resolving with what
 * stops it). One plain baseline for all: the least of every plain run.
 */
export async function measureTolls<B extends string>(
  file: string,
  attach: Record<B, () => Promise<{ stop(): Promise<unknown> }>>,
  alternations = TOLL_ALTERNATIONS,
): Promise<Record<B, SyscallToll>> {
  const backends = Object.keys(attach) as B[];
  const plain: Calls[] = [];
  const attached = Object.fromEntries(backends.map((b) => [b, [] as Calls[]])) as Record<B, Calls[]>;
  for (let i = 0; i < alternations; i++) {
    for (const b of backends) {
      plain.push(perCall(file));
      const tracer = await attach[b]();
      try {
        attached[b].push(perCall(file));
      } finally {
        await tracer.stop();
      }
      await new Promise((r) => setTimeout(r, SETTLE_MS));
    }
  }
  plain.push(perCall(file));
  const least = (xs: Calls[]): Calls => ({ write: Math.min(...xs.map((x) => x.write)), getppid: Math.min(...xs.map((x) => x.getppid)), exchange: Math.min(...xs.map((x) => x.exchange)) });
  const p = least(plain);
  return Object.fromEntries(
    backends.map((b) => {
      const a = least(attached[b]);
      return [b, { plain: p, attached: a, writeNs: a.write - p.write, otherNs: a.getppid - p.getppid, exchangeNs: a.exchange - p.exchange }];
    }),
  ) as Record<B, SyscallToll>;
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
 * ns per request the pair missed on the untraced twin: its end of an exchange (half of one: a read and a write, its
 * socket's events) and each of its other syscalls at the toll of its kind. A toll under 0 is noise (attaching
 * takes nothing off a call): 0.
 */
export function tollNsPerRequest(toll: SyscallToll, perRequest: SyscallCensus): number {
  const pos = (x: number) => Math.max(0, x);
  return pos(toll.exchangeNs) / 2 + pos(toll.writeNs) * pos(perRequest.writes - 1) + pos(toll.otherNs) * pos(perRequest.all - perRequest.writes - 1);
}
