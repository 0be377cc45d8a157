/**
 * The kernel's own account of what each BPF program of a tracer child (bpftrace or the libbpf tracer's loader)
 * costs: with kernel.bpf_stats_enabled=1 the kernel counts every run of every program and the ns it took (`bpftool
 * prog show`: run_cnt, run_time_ns). A child's programs are the bpf-prog descriptors it holds (/proc/PID/fdinfo's
 * prog_id); which tracepoint each runs at, `bpftool perf show` says for classic tracepoints and `bpftool link show`
 * for BTF (raw) ones. The best evidence of where a tracer's cost is, probe by probe; the stats' own clock reads add
 * ~2 x 20 ns a run, so the throughput of a trial that takes them is not the one to quote.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { treePids } from '../agents/proc/tree-snapshot.js';
import { numericEntries, readProcText } from '../agents/proc/proc-read.js';

const STATS = '/proc/sys/kernel/bpf_stats_enabled';

/** Turns the kernel's BPF run-time accounting on; returns what turns it back to what it was. */
export function enableBpfStats(): () => void {
  const was = readFileSync(STATS, 'utf8').trim();
  writeFileSync(STATS, '1');
  return () => writeFileSync(STATS, was);
}

/** One tracepoint's programs (bpftrace attaches one per probe and attach point). */
export interface ProbeCost {
  tracepoint: string;
  runs: number;
  ns: number;
}

const bpftool = <T>(...args: string[]): T => JSON.parse(execFileSync('bpftool', ['-j', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 })) as T;

/** The programs the children of `parent` hold a descriptor of. */
function childPrograms(parent: number): Set<number> {
  const ids = new Set<number>();
  // The tracer is this process's child; treePids lists its own tree first.
  for (const pid of treePids(parent).slice(1)) {
    for (const fd of numericEntries(`/proc/${pid}/fd`)) {
      const id = /^prog_id:\s*(\d+)/m.exec(readProcText(`/proc/${pid}/fdinfo/${fd}`) ?? '');
      if (id) ids.add(Number(id[1]));
    }
  }
  return ids;
}

/** The cumulative run count and time of each tracepoint's programs loaded by children of `parent`, costliest first. */
export function probeCosts(parent: number): ProbeCost[] {
  const mine = childPrograms(parent);
  const tracepoint = new Map<number, string>();
  for (const l of bpftool<{ prog_id: number; tracepoint?: string }[]>('perf', 'show')) if (l.tracepoint !== undefined) tracepoint.set(l.prog_id, l.tracepoint);
  for (const l of bpftool<{ prog_id: number; tp_name?: string }[]>('link', 'show')) if (l.tp_name !== undefined) tracepoint.set(l.prog_id, l.tp_name);
  const byTp = new Map<string, ProbeCost>();
  for (const p of bpftool<{ id: number; run_cnt?: number; run_time_ns?: number }[]>('prog', 'show')) {
    const tp = tracepoint.get(p.id);
    if (tp === undefined || !mine.has(p.id)) continue;
    const c = byTp.get(tp) ?? { tracepoint: tp, runs: 0, ns: 0 };
    c.runs += p.run_cnt ?? 0;
    c.ns += p.run_time_ns ?? 0;
    byTp.set(tp, c);
  }
  return [...byTp.values()].sort((a, b) => b.ns - a.ns);
}

/** The table: per tracepoint, runs a second, ns a run, CPU µs a second and a request. */
export function probeCostTable(costs: ProbeCost[], seconds: number, requests: number): string {
  const rows = [...costs, { tracepoint: 'all', runs: costs.reduce((a, c) => a + c.runs, 0), ns: costs.reduce((a, c) => a + c.ns, 0) }];
  const lines = rows.map(
    (c) =>
      `    ${c.tracepoint.padEnd(22)} ${(c.runs / seconds).toFixed(0).padStart(8)} runs/s ${(c.runs ? c.ns / c.runs : 0).toFixed(0).padStart(6)} ns/run ` +
      `${(c.ns / seconds / 1e3).toFixed(0).padStart(7)} µs/s ${(requests ? c.ns / requests / 1e3 : 0).toFixed(2).padStart(6)} µs/req`,
  );
  return lines.join('\n');
}
