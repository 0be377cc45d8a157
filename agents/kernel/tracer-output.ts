/**
 * bpftrace's `-f json` output, one JSON document a line, turned into one interval of counters at each tick line
 * the program prints (tracer-program.ts). A map printed empty (a sum nothing was added to) is 0.
 */
import type { KernelRequests } from '../../src/vocabulary/kernel-requests.js';
import { COUNTERS } from './tracer-program.js';

export type Counter = (typeof COUNTERS)[number];
export type ProgramCounters = Record<Counter, number>;

export const zeroCounters = (): ProgramCounters => Object.fromEntries(COUNTERS.map((c) => [c, 0])) as ProgramCounters;

const KNOWN = new Set<string>(COUNTERS.map((c) => `@${c}`));

export type TracerLine =
  | { kind: 'ready' }
  | { kind: 'counter'; name: Counter; value: number }
  | { kind: 'tick'; ns: number }
  | { kind: 'error'; message: string }
  | { kind: 'other' };

export function parseTracerLine(line: string): TracerLine {
  let doc: { type?: string; data?: unknown; msg?: string };
  try {
    doc = JSON.parse(line);
  } catch {
    // Not JSON: bpftrace's own messages on stdout (0.17 prints some warnings there).
    return { kind: 'other' };
  }
  if (doc.type === 'printf' && typeof doc.data === 'string') {
    if (doc.data.startsWith('srvlens-ready')) return { kind: 'ready' };
    const tick = /^srvlens-tick (\d+)/.exec(doc.data);
    if (tick) return { kind: 'tick', ns: Number(tick[1]) };
    return { kind: 'other' };
  }
  if (doc.type === 'map' && doc.data !== null && typeof doc.data === 'object') {
    const [name, value] = Object.entries(doc.data)[0] ?? [];
    if (name === undefined || !KNOWN.has(name)) return { kind: 'other' };
    return { kind: 'counter', name: name.slice(1) as Counter, value: typeof value === 'number' ? value : 0 };
  }
  if (doc.type === 'error' || doc.type === 'lost_events') return { kind: 'error', message: JSON.stringify(doc.data ?? doc.msg ?? doc) };
  return { kind: 'other' };
}

/** The sum of intervals' counters (maxima taken as the max). */
export function addCounters(a: ProgramCounters, b: ProgramCounters): ProgramCounters {
  const out = zeroCounters();
  for (const c of COUNTERS) out[c] = c === 'srv_max_ns' ? Math.max(a[c], b[c]) : a[c] + b[c];
  return out;
}

const meanMs = (sumNs: number, n: number) => (n > 0 ? sumNs / n / 1e6 : null);

/** Counters summed over `spanMs` as the figures a person reads (src/vocabulary/kernel-requests.ts). */
export function kernelRequests(c: ProgramCounters, spanMs: number): KernelRequests {
  return {
    span_ms: spanMs,
    accepts: c.accepts,
    requests: c.req,
    responses: c.resp,
    not_http: c.nothttp,
    accept_queue_ms: meanMs(c.aq_ns, c.aq_n),
    accept_queue_n: c.aq_n,
    server_queue_ms: meanMs(c.sq_ns, c.sq_n),
    server_queue_n: c.sq_n,
    server_ms: meanMs(c.srv_ns, c.req),
    server_max_ms: c.req > 0 ? c.srv_max_ns / 1e6 : null,
    send_ms: meanMs(c.send_ns, c.send_n),
    send_n: c.send_n,
    split_n: c.split_n,
    split_server_ms: meanMs(c.split_srv_ns, c.split_n),
    oncpu_ms: meanMs(c.oncpu_ns, c.split_n),
    runqueue_ms: meanMs(c.rq_ns, c.split_n),
    blocked_ms: meanMs(c.blk_ns, c.split_n),
  };
}
