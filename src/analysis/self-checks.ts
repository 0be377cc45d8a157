/**
 * The report's checks of its own figures, per phase: each holds a figure against one measured another way (the
 * host's cores, the client's count, the lecture's formula, the clock), so a figure that cannot be true is shown as
 * such where it is shown, rather than read as a finding. A check that cannot be taken says why (`ok: null`);
 * a failed one is no error: it is what the figures say, next to them. Pure: frames in, checks out.
 */
import type { Frame, HostFacts } from '../vocabulary/index.js';
import { sum } from './numbers.js';

export const CHECK_IDS = ['cpu_within_host', 'requests_counted', 'unmeasured_small', 'littles_law', 'thread_split', 'agents_kept_all', 'accept_queue_kernel'] as const;
export type CheckId = (typeof CHECK_IDS)[number];

export interface Check {
  id: CheckId;
  /** true: holds; false: fails (the figures disagree); null: not taken, `detail` says why. */
  ok: boolean | null;
  detail: string;
}

/** The thresholds, each with why it is that wide. */
export const CHECK_LIMITS = {
  /**
   * CPU over cores x span: the agents read the kernel's counters a few ms after each boundary, so an interval can
   * hold a little of the next one's CPU; 2 % of a phase of several seconds covers it.
   */
  cpuSlack: 0.02,
  /** The agents' count against the client's: an answer can cross a boundary between the two sides (at least 1). */
  countShare: 0.02,
  /** What the parts do not cover, of the mean latency: more is a gap between marks or requests the agent missed. */
  unmeasuredShare: 0.05,
  /**
   * Little's law, L against X x W: a request in flight across the phase's edges is in one side and not the other, and
   * the time in flight is accrued at the events after it (an idle stretch lands in the next event's interval).
   */
  littleShare: 0.1,
  /** On CPU + run queue (schedstat) against the wall time (the clock) of the same requests: reads ~µs apart. */
  splitShare: 0.05,
  /**
   * The agents' accept queue (client's send -> accept) against the kernel's (handshake done -> accept): 5 %, and per
   * connection the time the client takes from its connect's end to its send, which the kernel counts and the agents
   * cannot (the generator's loop between the two, on a shared host a fraction of a ms).
   */
  acceptShare: 0.05,
  acceptSlackMsPerConnection: 0.2,
} as const;

/** What the client saw in the phase; null where no load generator measured it (agents-only runs). */
export interface ClientView {
  requests: number;
  errors: number;
  /**
   * Answers a late generator may have counted in a neighbouring phase. It reads answers up to its loop's lateness
   * late, so only those that came in that long before either edge of the phase can move across; a stall mid-phase
   * (a GC pause, a noisy neighbour's 20 ms) delays reads within the phase and moves none (phase-stats.ts, lateReads).
   */
  lateAtEdges: number;
  meanMs: number | null;
  unmeasuredMs: number | null;
}

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
const ms = (v: number) => `${v.toFixed(v >= 100 ? 0 : 2)} ms`;

/** What the CPU check needs of the host. */
export type HostCores = Pick<HostFacts, 'cpus' | 'cpu_quota_cores'>;

/** The cores the host gives: its CPUs, or its cgroup's quota where tighter. */
export const effectiveCores = (host: HostCores): number =>
  host.cpu_quota_cores != null && host.cpu_quota_cores < host.cpus ? host.cpu_quota_cores : host.cpus;

/** `host` null: the CPU check is not taken (the figures come from no known host, as in a capacity probe). */
export function selfChecks(frames: readonly Frame[], host: HostCores | null, client: ClientView | null): Check[] {
  return [cpuWithinHost(frames, host), requestsCounted(frames, client), unmeasuredSmall(frames, client), littlesLaw(frames), threadSplit(frames), agentsKeptAll(frames), acceptQueueKernel(frames)];
}

export const failedChecks = (checks: readonly Check[]) => checks.filter((c) => c.ok === false);

/**
 * Whether the client gave up on (or failed) more than countShare of what it sent: then the mean latency is of its
 * answers and the server's parts of what the agents served, two sets of requests, so what is left of the one by the
 * other (`unmeasured`) measures nothing. Under that share the two sets are the same within a count check's slack.
 */
export const clientGaveUp = (answers: number, errors: number): boolean => errors > CHECK_LIMITS.countShare * (answers + errors);

/**
 * srvlens.agent.dropped: what the agents could not keep (a thread's ring reused before it was read, intervals pushed
 * out of the export queue while the collector was slow or gone), and what they sent too late for its frame
 * (frame.agents_late). Either leaves the phase's figures short of what happened, so it fails the check; the errors
 * the agents caught are said beside.
 */
function agentsKeptAll(frames: readonly Frame[]): Check {
  const id = 'agents_kept_all';
  const servers = frames.flatMap((f) => (f.server ? [f.server] : []));
  const late = sum(frames, (f) => f.agents_late ?? 0);
  const lateText = late > 0 ? `; ${late} intervals of the agents' data came after their frames had gone out, lost to these figures` : '';
  if (servers.length === 0) return late > 0 ? { id, ok: false, detail: `no agent data in the phase${lateText}` } : { id, ok: null, detail: 'no agent reported' };
  const dropped = sum(servers, (s) => s.dropped);
  const errors = sum(servers, (s) => s.agent_errors);
  return { id, ok: dropped === 0 && late === 0, detail: `the agents dropped ${dropped} records (srvlens.agent.dropped) and caught ${errors} errors${lateText}` };
}

function cpuWithinHost(frames: readonly Frame[], host: HostCores | null): Check {
  const id = 'cpu_within_host';
  const contexts = frames.flatMap((f) => f.contexts);
  if (contexts.length === 0) return { id, ok: null, detail: 'no CPU was measured' };
  if (host === null) return { id, ok: null, detail: 'the host is not known' };
  const cores = effectiveCores(host);
  const of = cores < host.cpus ? `the cgroup's quota of ${cores.toFixed(2)} cores` : `the host's ${cores} cores`;
  const spanMs = sum(frames, (f) => f.interval_ms);
  const cpuMs = sum(contexts, (c) => c.cpu_user_ms + c.cpu_system_ms);
  const used = cpuMs / spanMs;
  return {
    id,
    ok: used <= cores * (1 + CHECK_LIMITS.cpuSlack),
    detail: `${used.toFixed(2)} cores of ${of} (${ms(cpuMs)} of CPU over ${ms(spanMs)})`,
  };
}

function requestsCounted(frames: readonly Frame[], client: ClientView | null): Check {
  const id = 'requests_counted';
  if (client === null) return { id, ok: null, detail: 'no load generator counted the requests' };
  const servers = frames.flatMap((f) => (f.server ? [f.server] : []));
  if (servers.length === 0) return { id, ok: null, detail: 'no agent counted requests' };
  if (client.errors > 0) return { id, ok: null, detail: `the client saw ${client.errors} errors: the agents may have served requests nobody read` };
  const agents = sum(servers, (s) => s.requests);
  const late = Math.round(client.lateAtEdges);
  const allowed = Math.max(1, Math.ceil(client.requests * CHECK_LIMITS.countShare)) + late;
  const lateWords = late > 0 ? `, ${late} of them for the generator's lateness at the phase's edges` : '';
  return {
    id,
    ok: Math.abs(agents - client.requests) <= allowed,
    detail: `the agents counted ${agents} requests, the client got ${client.requests} answers (within ${allowed} allowed${lateWords})`,
  };
}

function unmeasuredSmall(frames: readonly Frame[], client: ClientView | null): Check {
  const id = 'unmeasured_small';
  if (client === null) return { id, ok: null, detail: 'no load generator measured the latency' };
  if (client.meanMs === null || client.meanMs <= 0) return { id, ok: null, detail: 'no latency was measured' };
  if (!frames.some((f) => (f.server?.joined ?? 0) > 0)) return { id, ok: null, detail: 'no agent measured the server\'s parts of the requests' };
  if (clientGaveUp(client.requests, client.errors) || client.unmeasuredMs === null) {
    return { id, ok: null, detail: `the client gave up on ${client.errors} of ${client.requests + client.errors} requests: the mean is of its answers, the parts of what the agents served` };
  }
  const share = Math.abs(client.unmeasuredMs) / client.meanMs;
  return {
    id,
    ok: share <= CHECK_LIMITS.unmeasuredShare,
    detail:
      `unmeasured ${ms(client.unmeasuredMs)} of the mean ${ms(client.meanMs)}: ${pct(share)} (at most ${pct(CHECK_LIMITS.unmeasuredShare)})`,
  };
}

/**
 * L = X x W (Little): the agents' mean requests in flight (integrated over time, B_IN_FLIGHT_MS) against their
 * throughput times their mean server time (from the duration histograms): two records of the same requests kept
 * apart, which disagree when requests are counted and not timed, lost between thread and agent, or abandoned.
 */
function littlesLaw(frames: readonly Frame[]): Check {
  const id = 'littles_law';
  const servers = frames.flatMap((f) => (f.server ? [f.server] : []));
  if (servers.length === 0) return { id, ok: null, detail: 'no agent reported requests' };
  if (servers.some((s) => s.in_flight_ms === undefined)) return { id, ok: null, detail: 'the agents did not record the time requests were in flight' };
  const requests = sum(servers, (s) => s.requests);
  const timed = sum(servers, (s) => s.duration.count);
  if (requests === 0 || timed === 0) return { id, ok: null, detail: 'no requests were served' };
  const spanS = sum(frames, (f) => f.interval_ms) / 1000;
  const l = sum(servers, (s) => s.in_flight_ms ?? 0) / 1000 / spanS;
  const x = requests / spanS;
  const w = sum(servers, (s) => s.duration.sum) / timed;
  const xw = x * w;
  return {
    id,
    ok: Math.abs(l - xw) <= CHECK_LIMITS.littleShare * Math.max(l, xw),
    detail: `mean in flight L = ${l.toFixed(3)}; X x W = ${x.toFixed(1)} req/s x ${ms(w * 1000)} = ${xw.toFixed(3)} (within ${pct(CHECK_LIMITS.littleShare)})`,
  };
}

/**
 * The schedstat split of the requests it was taken for, against their wall time from the clock. Blocked is what is
 * left of the wall time (never below 0), so the parts exceed the wall time exactly where schedstat claims more
 * on CPU and run queue than the request lasted: a thread's counters read wrong, or another thread's.
 */
/** The accept queue's wait as the agents timed it (from the client's send) against the kernel's own (agents/kernel/). */
function acceptQueueKernel(frames: readonly Frame[]): Check {
  const id = 'accept_queue_kernel';
  const waits = frames.flatMap((f) => (f.accept_wait ? [f.accept_wait] : []));
  if (waits.length === 0) return { id, ok: null, detail: 'the kernel tracer did not run (root, bpftrace)' };
  const agents = frames.flatMap((f) => (f.server && f.server.source === undefined ? [f.server.stages.accept_queue] : []));
  if (agents.length === 0 || sum(agents, (a) => a.entries) === 0) return { id, ok: null, detail: 'no agent timed the accept queue (it needs the client\'s send time)' };
  const connections = sum(waits, (w) => w.connections);
  if (connections === 0) return { id, ok: null, detail: 'no connection accepted whose handshake the kernel saw' };
  const kernel = sum(waits, (w) => w.sum_ms);
  const agent = sum(agents, (a) => a.sum_ms);
  const slack = CHECK_LIMITS.acceptShare * kernel + CHECK_LIMITS.acceptSlackMsPerConnection * connections;
  return {
    id,
    ok: Math.abs(agent - kernel) <= slack,
    detail: `the agents' ${ms(agent / connections)} a connection against the kernel's ${ms(kernel / connections)} (${connections} connections)`,
  };
}

function threadSplit(frames: readonly Frame[]): Check {
  const id = 'thread_split';
  const splits = frames.flatMap((f) => (f.server?.thread_split ? [f.server.thread_split] : []));
  if (splits.length === 0) return { id, ok: null, detail: 'no thread serving one request at a time was split' };
  if (splits.some((s) => s.wall_ms === undefined)) return { id, ok: null, detail: 'the agents did not send the split requests\' wall time' };
  const n = sum(splits, (s) => s.requests);
  const wall = sum(splits, (s) => s.wall_ms ?? 0);
  const cpu = sum(splits, (s) => s.on_cpu_ms);
  const runq = sum(splits, (s) => s.runqueue_ms);
  const blocked = sum(splits, (s) => s.blocked_ms);
  const parts = cpu + runq + blocked;
  return {
    id,
    ok: Math.abs(parts - wall) <= CHECK_LIMITS.splitShare * wall,
    detail:
      `on CPU ${ms(cpu / n)} + run queue ${ms(runq / n)} + blocked ${ms(blocked / n)} = ${ms(parts / n)} per request; ` +
      `its server time ${ms(wall / n)} (${n} requests split)`,
  };
}
