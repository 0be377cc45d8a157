/**
 * Reads OTLP/HTTP JSON metric exports (`resourceMetrics[].scopeMetrics[].metrics[]`) into per-process, per-interval
 * agent data, per execution context where points carry `thread.id`. 64-bit integers arrive as strings in OTLP JSON;
 * every number is read through `num`. A data point's interval is found from its end time: agents put points
 * exactly on interval boundaries of the shared monotonic clock, so rounding absorbs the millisecond by which two
 * processes' epoch mappings can differ.
 */
import { ATTR, METRIC, STAGES, epochToMonoMs, type Exemplar, type ExpHistogramData, type StageName } from '../vocabulary/index.js';
import { MAX_HISTOGRAM_BUCKETS, MAX_ITEMS_PER_EXPORT, MAX_SCALE, MIN_SCALE, OtlpRejected, otlpList, otlpMessages, otlpNumber } from './otlp-limits.js';

export interface AgentContext {
  tid: number;
  name: string;
  /** js (a thread the agent runs in), agent (its own thread), runtime (all other threads), process (no thread data). */
  kind: string;
  threads: number;
  requests: number;
  joined: number;
  /** Requests in flight integrated over time, request-ms; null when the source did not say (older agents, spans). */
  in_flight_ms: number | null;
  stage_ms: Record<StageName, number>;
  stage_entries: Record<StageName, number>;
  duration: ExpHistogramData | null;
  cpu_user_ms: number;
  cpu_system_ms: number;
  voluntary: number;
  involuntary: number;
  runqueue_wait_ms: number | null;
  eventloop_utilization: number | null;
  eventloop_delay: ExpHistogramData | null;
  /** Requests split by the thread's schedstat (threads serving one request at a time), ms. */
  split: { requests: number; on_cpu_ms: number; runqueue_ms: number; blocked_ms: number; wall_ms?: number } | null;
}

export interface AgentInterval {
  pid: number;
  service: string;
  model: string;
  role: string;
  index: number;
  /** Per-thread contexts when the agent sent them; otherwise one `process` context built from the totals. */
  contexts: AgentContext[];
  /** The process's own totals (semantic-convention metrics). */
  process: AgentContext;
  rss_bytes: number | null;
  dropped: number;
  agent_errors: number;
  /** Requests the agent kept whole (exemplar traces), when it sends them. */
  exemplars?: Exemplar[];
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const num = (v: unknown): number => otlpNumber(v);

function attrs(list: Json[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of otlpMessages(list, 'attributes')) {
    const v = kv?.value ?? {};
    // own keys only: a key "__proto__" must not reach the prototype
    if (typeof kv?.key === 'string') Object.defineProperty(out, kv.key, { value: attrValue(v), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function attrValue(v: Json): string | number | boolean {
  return v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.doubleValue ?? v.boolValue ?? '');
}

function zeroStages(): Record<StageName, number> {
  return Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<StageName, number>;
}

export function emptyContext(tid: number, name: string, kind: string): AgentContext {
  return {
    tid,
    name,
    kind,
    threads: 1,
    requests: 0,
    joined: 0,
    in_flight_ms: null,
    stage_ms: zeroStages(),
    stage_entries: zeroStages(),
    duration: null,
    cpu_user_ms: 0,
    cpu_system_ms: 0,
    voluntary: 0,
    involuntary: 0,
    runqueue_wait_ms: null,
    eventloop_utilization: null,
    eventloop_delay: null,
    split: null,
  };
}

function expHist(p: Json): ExpHistogramData {
  const scale = num(p.scale);
  const counts = otlpList(p.positive?.bucketCounts, 'bucketCounts');
  const offset = num(p.positive?.offset);
  // Merging and quantiles allocate by scale, offset and length: bounded here, where the data comes in.
  if (!Number.isInteger(scale) || scale < MIN_SCALE || scale > MAX_SCALE) throw new OtlpRejected(400, `exponential histogram scale ${scale}: expected an integer from ${MIN_SCALE} to ${MAX_SCALE}`);
  if (counts.length > MAX_HISTOGRAM_BUCKETS) throw new OtlpRejected(413, `exponential histogram of ${counts.length} buckets: at most ${MAX_HISTOGRAM_BUCKETS}`);
  if (!Number.isInteger(offset) || Math.abs(offset) > 2 ** 30) throw new OtlpRejected(400, `exponential histogram offset ${offset}: expected an integer within ±2^30`);
  return {
    scale,
    zero_threshold: num(p.zeroThreshold),
    zero_count: num(p.zeroCount),
    offset,
    counts: counts.map((c) => {
      const n = num(c);
      if (n < 0) throw new OtlpRejected(400, `exponential histogram bucket count ${n}: expected 0 or more`);
      return n;
    }),
    count: num(p.count),
    sum: num(p.sum),
    min: num(p.min),
    max: num(p.max),
  };
}

/** Parses one export body; `intervalMsFallback` is used when the resource does not say its interval. */
export function parseOtlpMetrics(body: Json, intervalMsFallback: number): AgentInterval[] {
  const out = new Map<string, { a: AgentInterval; threads: Map<number, AgentContext> }>();
  let items = 0;
  for (const rm of otlpMessages(body?.resourceMetrics, 'resourceMetrics')) {
    const res = attrs(rm.resource?.attributes);
    const resourcePid = num(res[ATTR.processPid]);
    const intervalMs = num(res[ATTR.intervalMs]) || intervalMsFallback;
    // A point with its own process.pid is a child's whose rings the agent reads (agents/node/shared-rings.ts): filed
    // under that process, as if it had exported for itself.
    const get = (endNano: unknown, pid: number) => {
      const index = Math.round(epochToMonoMs(num(endNano) / 1e6) / intervalMs) - 1;
      const key = `${pid}:${index}`;
      let e = out.get(key);
      if (!e) {
        e = {
          a: {
            pid,
            service: String(res[ATTR.serviceName] ?? ''),
            model: String(res[ATTR.model] ?? 'unknown'),
            role: String(res[ATTR.role] ?? ''),
            index,
            contexts: [],
            process: emptyContext(pid, String(res[ATTR.serviceName] ?? 'process'), 'process'),
            rss_bytes: null,
            dropped: 0,
            agent_errors: 0,
          },
          threads: new Map(),
        };
        out.set(key, e);
      }
      return e;
    };
    for (const sm of otlpMessages(rm?.scopeMetrics, 'scopeMetrics')) {
      for (const m of otlpMessages(sm?.metrics, 'metrics')) {
        const points = otlpMessages(m?.sum?.dataPoints ?? m?.gauge?.dataPoints ?? m?.exponentialHistogram?.dataPoints, 'dataPoints');
        items += points.length;
        if (items > MAX_ITEMS_PER_EXPORT) throw new OtlpRejected(413, `more than ${MAX_ITEMS_PER_EXPORT} data points in one export: send them in several`);
        for (const p of points) {
          const at = attrs(p.attributes);
          const e = get(p.timeUnixNano, at[ATTR.processPid] !== undefined ? num(at[ATTR.processPid]) : resourcePid);
          let target = e.a.process;
          if (at[ATTR.threadId] !== undefined) {
            const tid = num(at[ATTR.threadId]);
            let c = e.threads.get(tid);
            if (!c) {
              c = emptyContext(tid, String(at[ATTR.threadName] ?? tid), String(at[ATTR.contextKind] ?? 'js'));
              e.threads.set(tid, c);
            }
            target = c;
          }
          applyPoint(m.name, p, at, target, e.a);
        }
      }
    }
  }
  return [...out.values()].map(({ a, threads }) => ({ ...a, contexts: threads.size ? [...threads.values()] : [a.process] }));
}

function applyPoint(name: string, p: Json, at: Record<string, unknown>, c: AgentContext, a: AgentInterval): void {
  const value = num(p.asDouble ?? p.asInt);
  switch (name) {
    case METRIC.requests:
      c.requests += value;
      break;
    case METRIC.requestsJoined:
      c.joined += value;
      break;
    case METRIC.inFlightTime:
      c.in_flight_ms = (c.in_flight_ms ?? 0) + value * 1000;
      break;
    case METRIC.partTime: {
      const part = at[ATTR.part] as StageName;
      if (Object.hasOwn(c.stage_ms, part)) c.stage_ms[part] += value * 1000;
      break;
    }
    case METRIC.partEntries: {
      const part = at[ATTR.part] as StageName;
      if (Object.hasOwn(c.stage_entries, part)) c.stage_entries[part] += value;
      break;
    }
    case METRIC.requestDuration:
      c.duration = expHist(p);
      break;
    case METRIC.cpuTime:
    case METRIC.threadCpuTime:
      if (at[ATTR.cpuMode] === 'user') c.cpu_user_ms += value * 1000;
      else if (at[ATTR.cpuMode] === 'system') c.cpu_system_ms += value * 1000;
      break;
    case METRIC.contextSwitches:
    case METRIC.threadContextSwitches:
      if (at[ATTR.contextSwitchType] === 'voluntary') c.voluntary += value;
      else if (at[ATTR.contextSwitchType] === 'involuntary') c.involuntary += value;
      break;
    case METRIC.runqueueWait:
    case METRIC.threadRunqueueWait:
      c.runqueue_wait_ms = (c.runqueue_wait_ms ?? 0) + value * 1000;
      break;
    case METRIC.requestsSplit:
      c.split = c.split ?? { requests: 0, on_cpu_ms: 0, runqueue_ms: 0, blocked_ms: 0 };
      c.split.requests += value;
      break;
    case METRIC.requestsSplitTime:
      c.split = c.split ?? { requests: 0, on_cpu_ms: 0, runqueue_ms: 0, blocked_ms: 0 };
      c.split.wall_ms = (c.split.wall_ms ?? 0) + value * 1000;
      break;
    case METRIC.requestThreadTime: {
      c.split = c.split ?? { requests: 0, on_cpu_ms: 0, runqueue_ms: 0, blocked_ms: 0 };
      const state = at[ATTR.threadState];
      if (state === 'on_cpu') c.split.on_cpu_ms += value * 1000;
      else if (state === 'runqueue') c.split.runqueue_ms += value * 1000;
      else if (state === 'blocked') c.split.blocked_ms += value * 1000;
      break;
    }
    case METRIC.threadCount:
      c.threads = value;
      break;
    case METRIC.memoryUsage:
      a.rss_bytes = value;
      break;
    case METRIC.eventLoopUtilization:
      c.eventloop_utilization = value;
      break;
    case METRIC.eventLoopDelay:
      c.eventloop_delay = expHist(p);
      break;
    case METRIC.agentDropped:
      a.dropped += value;
      break;
    case METRIC.agentErrors:
      a.agent_errors += value;
      break;
    default:
      break; // other metrics (from any OTel SDK) are accepted and ignored here
  }
}
