/**
 * Every server of the scenario side by side at the same phase: where each spends a request's time, what it
 * achieved, its p99, and what the model cost per request. The screen that answers "where does each model spend its
 * time". The cursor's server is figured up to the cursor, the others over their whole phase (see windows.ts).
 */
import { PART_NAMES, type PartName } from '../../src/vocabulary/index.js';
import type { CompareEntry } from '../state/snapshot.js';
import type { MeasuredBy } from '../../src/analysis/server-side-stats.js';

export interface CompareRow {
  server: string;
  model: string;
  /** The server the cursor is on. */
  current: boolean;
  /** Why there are no figures: the run has no such phase (yet). Null when there are. */
  missing: string | null;
  offered_rps: number | null;
  /** Without a generator: requests the agents saw finish per second, and the server time's p99 and mean. */
  achieved_rps: number | null;
  p99_ms: number | null;
  mean_ms: number | null;
  cpu_ms_per_request: number | null;
  cs_per_request: { voluntary: number; involuntary: number } | null;
  parts: { part: PartName; ms: number | null }[];
  intervals: number;
  partial: boolean;
  generator_saturated: boolean;
}

export interface ComparePanel {
  phase: string | null;
  rows: CompareRow[];
  /** The longest row's parts, ms: every row's bar is drawn on this one scale so that lengths compare. */
  scale_ms: number;
  /** Who measured the cursor's server: without a generator, rows carry the server side's figures (server-stats.ts). */
  measured_by: MeasuredBy;
}

/** A part's share of a bar: what it adds to the latency. The remainder `unmeasured` can come out below 0. */
export const barMs = (ms: number | null) => (ms !== null && ms > 0 ? ms : 0);

export function comparePanel(entries: readonly CompareEntry[], cursorRun: number): ComparePanel {
  const phase = entries[cursorRun]?.window?.span.name ?? null;
  const rows = entries.map((e, i): CompareRow => {
    const s = e.stats;
    const started = e.run.frames > 0;
    if (!s && e.server) return serverRow(e, i === cursorRun);
    return {
      server: e.run.start.server,
      model: e.run.start.model,
      current: i === cursorRun,
      missing: s ? null : !e.window ? (started && e.run.ended && !e.not_yet ? `no phase ${phase ?? ''}`.trim() : 'not run yet') : 'no requests',
      offered_rps: s?.offered_rps ?? null,
      achieved_rps: s?.achieved_rps ?? null,
      p99_ms: s?.latency_ms.p99 ?? null,
      mean_ms: s?.latency_ms.mean ?? null,
      cpu_ms_per_request: s?.cpu_ms_per_request ?? null,
      cs_per_request: s?.context_switches_per_request ?? null,
      parts: PART_NAMES.map((part) => ({ part, ms: s?.parts_ms[part] ?? null })),
      intervals: e.window ? e.window.to - e.window.from : 0,
      partial: e.window?.partial ?? false,
      generator_saturated: s?.generator_saturated ?? false,
    };
  });
  const scale = Math.max(0, ...rows.map((r) => r.parts.reduce((t, p) => t + barMs(p.ms), 0)));
  const cursor = entries[cursorRun];
  return { phase, rows, scale_ms: scale, measured_by: cursor?.stats ? 'generator' : (cursor?.server?.measured_by ?? 'generator') };
}

function serverRow(e: CompareEntry, current: boolean): CompareRow {
  const s = e.server!;
  const costs = s.costs;
  return {
    server: e.run.start.server,
    model: e.run.start.model,
    current,
    missing: s.requests === null ? 'requests not seen from /proc' : null,
    offered_rps: null,
    achieved_rps: s.served_rps,
    p99_ms: s.time_ms?.p99 ?? null,
    mean_ms: s.time_ms?.mean ?? null,
    cpu_ms_per_request: costs.cpu_ms_per_request,
    cs_per_request: costs.context_switches_per_request,
    parts: PART_NAMES.map((part) => ({ part, ms: s.parts_ms[part] })),
    intervals: e.window ? e.window.to - e.window.from : 0,
    partial: e.window?.partial ?? false,
    generator_saturated: false,
  };
}
