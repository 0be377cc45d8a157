/**
 * What `srvlens attach` prints: the JSON document (`--json`, `--out`) and the readable tables. Both are made from the
 * window and the finding alone.
 */
import { namedWith, type Confidence } from '../../src/vocabulary/model-ids.js';
import type { ContextWindow, ListenerWindow, ProcessWindow, WindowSummary } from '../../src/vocabulary/window-summary.js';
import type { KernelRequests } from '../../src/vocabulary/kernel-requests.js';

/** The model named from the window, by the analysis (src/analysis/detect-model.ts), which agents do not import. */
export interface NamedModel {
  model: string;
  /** null with `unknown`. */
  confidence: Confidence | null;
  evidence: string[];
}

export interface AttachJson {
  pid: number;
  model: string;
  confidence: Confidence | null;
  evidence: string[];
  duration_ms: number;
  interval_ms: number;
  samples: number;
  /** The fields the issue names first (pid, tid, name, state, cpu_ms, voluntary, involuntary, runqueue_wait_ms), then the rest. */
  contexts: ContextWindow[];
  processes: ProcessWindow[];
  /** The listener whose queue was longest (null: no listening TCP socket); all of them are in `listening`. */
  accept_queue: Pick<ListenerWindow, 'listen' | 'length' | 'max' | 'peak'> | null;
  listening: ListenerWindow[];
  /** The requests as the kernel tracer saw them (agents/kernel/), or null with the reason it could not. */
  requests: KernelRequests | null;
  requests_unmeasured: string | null;
}

/** What the kernel tracer gave for the window: its figures, or why there are none. */
export type KernelView = { requests: KernelRequests } | { unmeasured: string };

/** Milliseconds to the µs: schedstat's ns are finer than anyone reads, and float noise is not a measurement. */
const ms = (v: number) => Math.round(v * 1000) / 1000;
const msOrNull = (v: number | null) => (v === null ? null : ms(v));

export function attachJson(w: WindowSummary, f: NamedModel, kernel: KernelView): AttachJson {
  const longest = [...w.listeners].sort((a, b) => b.peak - a.peak || b.length - a.length)[0];
  return {
    pid: w.root_pid,
    model: f.model,
    confidence: f.confidence,
    evidence: f.evidence,
    duration_ms: ms(w.duration_ms),
    interval_ms: w.interval_ms,
    samples: w.samples,
    contexts: w.contexts.map((c) => ({
      pid: c.pid,
      tid: c.tid,
      name: c.name,
      state: c.state,
      cpu_ms: ms(c.cpu_ms),
      voluntary: c.voluntary,
      involuntary: c.involuntary,
      runqueue_wait_ms: msOrNull(c.runqueue_wait_ms),
      user_ms: ms(c.user_ms),
      system_ms: ms(c.system_ms),
      oncpu_ms: msOrNull(c.oncpu_ms),
      timeslices: c.timeslices,
      states: c.states,
      wait: c.wait,
      born: c.born,
      ended: c.ended,
    })),
    processes: w.processes.map((p) => ({ ...p, cpu_ms: ms(p.cpu_ms), reaped_children_cpu_ms: ms(p.reaped_children_cpu_ms) })),
    accept_queue: longest ? { listen: longest.listen, length: longest.length, max: longest.max, peak: longest.peak } : null,
    listening: w.listeners,
    requests: 'requests' in kernel ? kernel.requests : null,
    requests_unmeasured: 'unmeasured' in kernel ? kernel.unmeasured : null,
  };
}

/** A table shows this many rows at most, the busiest, in id order; a server per connection makes hundreds. */
const MAX_ROWS = 40;

/** The busiest `MAX_ROWS` of `rows`, in their order, and how many were left out. */
function busiest<T>(rows: T[], cpu: (r: T) => number): { shown: T[]; left: number } {
  const keep = new Set([...rows].sort((a, b) => cpu(b) - cpu(a)).slice(0, MAX_ROWS));
  const shown = rows.filter((r) => keep.has(r));
  return { shown, left: rows.length - shown.length };
}

/** Columns named in `left` are text, padded on the right; the others are numbers, aligned on the right. */
function table(header: string[], rows: (string | number)[][], left: string[]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]) => '  ' + r.map((c, i) => (left.includes(header[i]) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return cells.map(line).join('\n') + '\n';
}

const num = (v: number | null, digits = 0) => (v === null ? '-' : v.toFixed(digits));
const life = (x: { born: boolean; ended: boolean }) => (x.born ? '+' : '') + (x.ended ? '-' : '');

export function renderAttachText(j: AttachJson): string {
  const root = j.processes.find((p) => p.pid === j.pid);
  let out = `PID ${j.pid} (${root?.name ?? '?'}): ${(j.duration_ms / 1000).toFixed(1)} s, ${j.samples} samples every ${j.interval_ms} ms\n\n`;
  out += `model: ${namedWith(j)}\n${j.evidence.map((e) => `  - ${e}\n`).join('')}\n`;
  out += requestsText(j) + '\n';
  const q = j.accept_queue;
  out += q ? `accept queue of ${q.listen}: ${q.length} waiting (peak ${q.peak}, backlog ${q.max ?? 'unknown'})\n\n` : 'accept queue: no listening TCP socket\n\n';
  const procs = busiest(j.processes, (p) => (p.pid === j.pid ? Infinity : p.cpu_ms));
  out += table(
    ['PID', 'PPID', 'NAME', 'THREADS', 'CONNS', 'FDS', 'RSS MB', 'CPU ms', 'LIFE'],
    procs.shown.map((p) => [p.pid, p.ppid, p.name, p.threads_max, p.sockets_readable ? p.inbound_max : '-', p.fds ?? '-', num(p.rss_bytes === null ? null : p.rss_bytes / 2 ** 20, 1), num(p.cpu_ms), life(p)]),
    ['NAME', 'LIFE'],
  );
  if (procs.left > 0) out += `  ... and ${procs.left} less busy processes (--json lists them all)\n`;
  out += '\n';
  const ctxs = busiest(j.contexts, (c) => c.oncpu_ms ?? c.cpu_ms);
  out += table(
    ['PID', 'TID', 'NAME', 'ST', 'CPU ms', 'USER', 'SYS', 'ON-CPU ms', 'RUNQ ms', 'SLICES', 'VOL CTX', 'INVOL CTX', 'WAITS IN', 'LIFE'],
    ctxs.shown.map((c) => [c.pid, c.tid, c.name, c.state, num(c.cpu_ms), num(c.user_ms), num(c.system_ms), num(c.oncpu_ms, 1), num(c.runqueue_wait_ms, 1), c.timeslices ?? '-', c.voluntary, c.involuntary, c.wait ?? '-', life(c)]),
    ['NAME', 'ST', 'WAITS IN', 'LIFE'],
  );
  if (ctxs.left > 0) out += `  ... and ${ctxs.left} less busy threads (--json lists them all)\n`;
  out += '\n  CONNS: most connections to its listening ports held at once. LIFE: + created, - ended during the window.\n';
  return out;
}

const msText = (v: number | null) => (v === null ? '-' : `${v.toFixed(2)} ms`);

/** The kernel tracer's parts of a request, as the Node agent's parts are shown: each a mean, `-` where unmeasured. */
function requestsText(j: AttachJson): string {
  const r = j.requests;
  if (r === null) return `requests: not measured (${j.requests_unmeasured}); the figures below are from /proc\n`;
  const rate = r.span_ms > 0 ? ((r.responses || r.requests) / r.span_ms) * 1000 : 0;
  let out = `requests, from the kernel (eBPF): ${r.requests} timed, ${r.responses} HTTP responses, ${r.accepts} connections accepted, ${rate.toFixed(1)} req/s\n`;
  if (r.adopted > 0) out += `  ${r.adopted} connections accepted before the trace began were picked up at their first answer (timed from their next request)\n`;
  if (r.adopted_calls > 0) out += `  ${r.adopted_calls} outgoing connections opened before the trace began were picked up at their first write (their calls timed from then)\n`;
  if (r.not_http > 0) out += `  ${r.not_http} connections not timed: their first write was not HTTP/1.x (TLS or HTTP/2)\n`;
  if (r.lost_prints > 0) out += `  bpftrace lost ${r.lost_prints} of its prints (the host too busy to read them): ${r.intervals_lost} intervals left out of the live view; the totals here hold them\n`;
  const split = r.split_n > 0;
  const sum = split ? (r.oncpu_ms ?? 0) + (r.runqueue_ms ?? 0) + (r.blocked_ms ?? 0) : null;
  out += table(
    ['PART', 'MEAN', 'OF', 'WHAT'],
    [
      ['accept_queue', msText(r.accept_queue_ms), r.accept_queue_n, 'handshake done -> accepted'],
      ['server_queue', msText(r.server_queue_ms), r.server_queue_n, 'request bytes arrived -> read by the server'],
      ['server', msText(r.server_ms), r.requests, `read -> first byte of the answer written (max ${msText(r.server_max_ms)}): the whole handler`],
      ['  on CPU', msText(r.oncpu_ms), r.split_n, 'switched in -> switched out'],
      ['  run queue', msText(r.runqueue_ms), r.split_n, 'schedstat run_delay'],
      ['  blocked', msText(r.blocked_ms), r.split_n, 'switched out asleep -> woken'],
      ['send', msText(r.send_ms), r.send_n, 'first -> last write of the answer'],
      ['downstream', msText(r.upstream_ms === null ? null : r.upstream_ms + r.reply_wait_ms!), r.calls, 'calls the server made: first write -> reply read'],
      ['  upstream', msText(r.upstream_ms), r.calls, "first write -> the reply's first bytes arrived"],
      ['  reply wait', msText(r.reply_wait_ms), r.calls, 'reply arrived -> read by the server (its thread or loop busy)'],
    ],
    ['PART', 'WHAT'],
  );
  out += split
    ? `  the split is of ${r.split_n} requests each served by a thread with no other open; its parts add up to ${msText(sum)} of their ${msText(r.split_server_ms)}\n`
    : '  no split: no request was served by a thread alone (an event loop interleaves them)\n';
  return out;
}
