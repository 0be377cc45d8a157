/**
 * A service's agents as Prometheus kept them, turned back into the agents' intervals (AgentInterval, what the OTLP
 * decoder makes of a live export), one per instance per step: so frames are assembled, recorded, replayed and
 * reported by the code that does it for a live run.
 *
 * Counters are read raw at every step and differenced here (a decrease is a restart: the new value is the increase,
 * as Prometheus's rate() takes it); a step where either end has no sample has no interval, so a target down for a
 * while leaves a gap rather than a spike. Classic histograms become exponential ones (classic-buckets.ts).
 */
import { STAGES, type StageName } from '../../vocabulary/index.js';
import { emptyContext, type AgentContext, type AgentInterval } from '../otlp-json.js';
import { classicToExp } from './classic-buckets.js';
import { FAMILY, LABEL } from './families.js';
import type { PrometheusApi, RangeSeries } from './query-api.js';
import type { ServiceTarget } from './service-targets.js';

/** A query range on a grid: unix seconds, start a multiple of the step. */
export interface StepRange {
  start: number;
  end: number;
  stepS: number;
}

export const targetKey = (t: { job: string; instance: string }) => `${t.job}\u0000${t.instance}`;

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function selector(targets: readonly ServiceTarget[]): string[] {
  const byJob = new Map<string, string[]>();
  for (const t of targets) byJob.set(t.job, [...(byJob.get(t.job) ?? []), t.instance]);
  return [...byJob].map(([job, instances]) => `{job=${JSON.stringify(job)},instance=~${JSON.stringify(instances.map(escapeRegex).join('|'))}}`);
}

/** Every family the report reads, for the service's targets, over the range. */
async function fetchAll(api: PrometheusApi, targets: readonly ServiceTarget[], r: StepRange): Promise<Map<string, RangeSeries[]>> {
  const names = [
    ...Object.values(FAMILY).filter((f) => f !== FAMILY.duration && f !== FAMILY.loopDelay && f !== FAMILY.targetInfo),
    `${FAMILY.duration}_bucket`,
    `${FAMILY.duration}_sum`,
    `${FAMILY.loopDelay}_bucket`,
    `${FAMILY.loopDelay}_sum`,
  ];
  const out = new Map<string, RangeSeries[]>();
  const sels = selector(targets);
  await Promise.all(
    names.map(async (name) => {
      const lists = await Promise.all(sels.map((sel) => api.queryRange(`${name}${sel}`, r.start, r.end, r.stepS)));
      out.set(name, lists.flat());
    }),
  );
  return out;
}

/** Samples by step: index k is the evaluation at start + k x step. */
function byStep(s: RangeSeries, r: StepRange, steps: number): (number | null)[] {
  const out = new Array<number | null>(steps + 1).fill(null);
  for (const [t, v] of s.values) {
    const k = Math.round((t - r.start) / r.stepS);
    if (k >= 0 && k <= steps && Number.isFinite(v)) out[k] = v;
  }
  return out;
}

/** The increase over each step (index k: from k-1 to k); null where either end is missing. */
function increases(values: (number | null)[]): (number | null)[] {
  return values.map((v, k) => {
    const before = k > 0 ? values[k - 1] : null;
    if (v === null || before === null) return null;
    return v >= before ? v - before : v;
  });
}

interface InstanceSteps {
  target: ServiceTarget;
  pid: number;
  byStep: Map<number, AgentInterval>;
  contextIds: Map<string, number>;
}

export async function readAgentIntervals(api: PrometheusApi, service: string, targets: readonly ServiceTarget[], r: StepRange): Promise<Map<string, AgentInterval[]>> {
  return agentIntervalsFrom(await fetchAll(api, targets, r), service, targets, r);
}

/** Pure: the fetched series in, each target's intervals out (in step order). */
export function agentIntervalsFrom(series: Map<string, RangeSeries[]>, service: string, targets: readonly ServiceTarget[], r: StepRange): Map<string, AgentInterval[]> {
  const steps = Math.round((r.end - r.start) / r.stepS);
  const instances = new Map<string, InstanceSteps>();
  // A target known only by its job has no pid: one made up per target, stable within the report.
  targets.forEach((t, i) => instances.set(targetKey(t), { target: t, pid: t.pid || 1_000_000 + i, byStep: new Map(), contextIds: new Map() }));

  const intervalAt = (inst: InstanceSteps, k: number): AgentInterval => {
    let a = inst.byStep.get(k);
    if (!a) {
      const index = Math.round(r.start / r.stepS) + k - 1;
      a = { pid: inst.pid, service, model: inst.target.model, role: inst.target.role, index, contexts: [], process: emptyContext(0, service, 'process'), rss_bytes: null, dropped: 0, agent_errors: 0 };
      inst.byStep.set(k, a);
    }
    return a;
  };
  const contextAt = (inst: InstanceSteps, k: number, thread: string, kind: string): AgentContext => {
    const a = intervalAt(inst, k);
    let c = a.contexts.find((x) => x.name === thread && x.kind === kind);
    if (!c) {
      const id = `${kind}\u0000${thread}`;
      if (!inst.contextIds.has(id)) inst.contextIds.set(id, inst.contextIds.size + 1);
      c = emptyContext(inst.contextIds.get(id)!, thread, kind);
      a.contexts.push(c);
    }
    return c;
  };
  const each = (name: string, apply: (inst: InstanceSteps, k: number, v: number, labels: Record<string, string>) => void, gauge = false) => {
    for (const s of series.get(name) ?? []) {
      const inst = instances.get(targetKey({ job: s.metric.job ?? '', instance: s.metric.instance ?? '' }));
      if (!inst) continue;
      const values = byStep(s, r, steps);
      const list = gauge ? values : increases(values);
      for (let k = 1; k <= steps; k++) if (list[k] !== null) apply(inst, k, list[k]!, s.metric);
    }
  };
  const ctx = (inst: InstanceSteps, k: number, l: Record<string, string>) => contextAt(inst, k, l[LABEL.thread] ?? 'main', l[LABEL.kind] ?? 'js');
  const stage = (l: Record<string, string>) => (STAGES as readonly string[]).includes(l[LABEL.part]) ? (l[LABEL.part] as StageName) : null;

  each(FAMILY.requests, (i, k, v, l) => (ctx(i, k, l).requests += v));
  each(FAMILY.joined, (i, k, v, l) => (ctx(i, k, l).joined += v));
  each(FAMILY.inFlight, (i, k, v, l) => {
    const c = ctx(i, k, l);
    c.in_flight_ms = (c.in_flight_ms ?? 0) + v * 1000;
  });
  each(FAMILY.partTime, (i, k, v, l) => {
    const s = stage(l);
    if (s) ctx(i, k, l).stage_ms[s] += v * 1000;
  });
  each(FAMILY.partEntries, (i, k, v, l) => {
    const s = stage(l);
    if (s) ctx(i, k, l).stage_entries[s] += v;
  });
  const split = (c: AgentContext) => (c.split ??= { requests: 0, on_cpu_ms: 0, runqueue_ms: 0, blocked_ms: 0, wall_ms: 0 });
  each(FAMILY.splitRequests, (i, k, v, l) => (split(ctx(i, k, l)).requests += v));
  each(FAMILY.splitTime, (i, k, v, l) => (split(ctx(i, k, l)).wall_ms! += v * 1000));
  each(FAMILY.threadTime, (i, k, v, l) => {
    const sp = split(ctx(i, k, l));
    const state = l[LABEL.threadState];
    if (state === 'on_cpu') sp.on_cpu_ms += v * 1000;
    else if (state === 'runqueue') sp.runqueue_ms += v * 1000;
    else if (state === 'blocked') sp.blocked_ms += v * 1000;
  });
  each(FAMILY.loopUtilization, (i, k, v, l) => (ctx(i, k, l).eventloop_utilization = v), true);
  each(FAMILY.threads, (i, k, v, l) => (ctx(i, k, l).threads = v), true);
  each(FAMILY.threadCpu, (i, k, v, l) => {
    const c = ctx(i, k, l);
    if (l[LABEL.cpuMode] === 'system') c.cpu_system_ms += v * 1000;
    else c.cpu_user_ms += v * 1000;
  });
  each(FAMILY.threadSwitches, (i, k, v, l) => {
    const c = ctx(i, k, l);
    if (l[LABEL.switchType] === 'involuntary') c.involuntary += v;
    else c.voluntary += v;
  });
  each(FAMILY.threadRunqueue, (i, k, v, l) => {
    const c = ctx(i, k, l);
    c.runqueue_wait_ms = (c.runqueue_wait_ms ?? 0) + v * 1000;
  });
  each(FAMILY.processCpu, (i, k, v, l) => {
    const p = intervalAt(i, k).process;
    if (l[LABEL.cpuMode] === 'system') p.cpu_system_ms += v * 1000;
    else p.cpu_user_ms += v * 1000;
  });
  each(FAMILY.processSwitches, (i, k, v, l) => {
    const p = intervalAt(i, k).process;
    if (l[LABEL.switchType] === 'involuntary') p.involuntary += v;
    else p.voluntary += v;
  });
  each(FAMILY.processRunqueue, (i, k, v) => {
    const p = intervalAt(i, k).process;
    p.runqueue_wait_ms = (p.runqueue_wait_ms ?? 0) + v * 1000;
  });
  each(FAMILY.rss, (i, k, v) => (intervalAt(i, k).rss_bytes = v), true);
  each(FAMILY.dropped, (i, k, v) => (intervalAt(i, k).dropped += v));
  each(FAMILY.errors, (i, k, v) => (intervalAt(i, k).agent_errors += v));

  histograms(series.get(`${FAMILY.duration}_bucket`) ?? [], series.get(`${FAMILY.duration}_sum`) ?? [], (c, h) => (c.duration = h));
  histograms(series.get(`${FAMILY.loopDelay}_bucket`) ?? [], series.get(`${FAMILY.loopDelay}_sum`) ?? [], (c, h) => (c.eventloop_delay = h));

  function histograms(buckets: RangeSeries[], sums: RangeSeries[], set: (c: AgentContext, h: NonNullable<AgentContext['duration']>) => void) {
    const groups = new Map<string, { inst: InstanceSteps; labels: Record<string, string>; le: { bound: number; inc: (number | null)[] }[]; sum: (number | null)[] }>();
    const gkey = (l: Record<string, string>) => `${l.job}\u0000${l.instance}\u0000${l[LABEL.thread]}\u0000${l[LABEL.kind]}`;
    for (const s of buckets) {
      const inst = instances.get(targetKey({ job: s.metric.job ?? '', instance: s.metric.instance ?? '' }));
      if (!inst) continue;
      const key = gkey(s.metric);
      const g = groups.get(key) ?? { inst, labels: s.metric, le: [], sum: [] };
      g.le.push({ bound: s.metric.le === '+Inf' ? Infinity : Number(s.metric.le), inc: increases(byStep(s, r, steps)) });
      groups.set(key, g);
    }
    for (const s of sums) {
      const g = groups.get(gkey(s.metric));
      if (g) g.sum = increases(byStep(s, r, steps));
    }
    for (const g of groups.values()) {
      g.le.sort((a, b) => a.bound - b.bound);
      for (let k = 1; k <= steps; k++) {
        if (g.le.some((b) => b.inc[k] === null)) continue;
        const h = classicToExp({ le: g.le.map((b) => b.bound), cumulative: g.le.map((b) => b.inc[k]!), sum: g.sum[k] ?? 0 });
        if (h.count > 0) set(ctx(g.inst, k, g.labels), h);
      }
    }
  }

  const out = new Map<string, AgentInterval[]>();
  for (const [key, inst] of instances) out.set(key, [...inst.byStep.entries()].sort((a, b) => a[0] - b[0]).map(([, a]) => a));
  return out;
}
