/**
 * What gave out where a server stopped following the load: one cause (src/vocabulary/limits.ts) and the evidence
 * from the same frames, read at the first point past the knee against the lightest point. The causes are tried in
 * the order that keeps an effect from being named for its cause: a generator or a backend that ran out hides the
 * server; making a context per connection burns CPU and fills the run queue; a busy CPU makes every queue grow.
 * Pure: points in, a cause out. Thresholds beside each rule, with why.
 */
import { CPU_SATURATION_SHARE, type LimitCause, type ModelId } from '../vocabulary/index.js';
import { backendLimit, generatorOwn } from './capacity-verdict.js';
import { effectiveCores, type HostCores } from './self-checks.js';
import type { LoadPoint } from './load-curve.js';
import { figure, reqPerSec, sum } from './numbers.js';

/** Models that make a thread or a process for each connection, on the request's path. */
export const PER_CONNECTION_MODELS: readonly ModelId[] = ['thread-per-connection', 'fork-per-connection'];
/**
 * Context creation is what gave out where the wait from accept to the handler (server_queue: the new context's start)
 * is this share of the server's time or more: a start of that size is the request's cost, not its work.
 */
export const CREATION_SHARE = 0.25;
/**
 * Every core busy: the server's CPU at this share of the cores it may use, or the host's (the server's, the load
 * generator's and the backend's together) of all its cores; the rest is the kernel's and other processes'.
 */
export const HOST_CPU_BUSY = 0.85;
/** The run queue gave out where waiting for a core is this share of the server's time per request or more. */
export const RUNQUEUE_SHARE = 0.25;
/** Too few contexts: waiting to be taken (accept queue, server queue) is this share of the mean latency or more. */
export const QUEUE_SHARE = 0.5;
/** A blocked loop: its p99 delay is this share of the mean latency, while it is not busy on CPU (ELU under LOOP_BUSY). */
export const LOOP_DELAY_SHARE = 0.25;
export const LOOP_BUSY = 0.9;

export interface GaveOut {
  cause: LimitCause;
  evidence: string[];
}

const ms = (v: number) => `${figure(v)} ms`;
const pct = (v: number) => `${Math.round(v * 100)} %`;

/** The server's own time per request (accept to response sent), ms, from its parts. */
function serverTimeMs(p: LoadPoint): number | null {
  const parts = p.stats.parts_ms;
  const list = [parts.accept_queue, parts.server_queue, parts.parse, parts.process, parts.downstream, parts.transform, parts.send];
  return list.every((v) => v === null) ? null : list.reduce<number>((s, v) => s + (v ?? 0), 0);
}

/** The busiest context over the point's frames: its name and share of a core. */
function busiestContext(p: LoadPoint): { label: string; share: number } | null {
  const byKey = new Map<string, { label: string; cpu: number }>();
  for (const f of p.frames) {
    for (const c of f.contexts) {
      const e = byKey.get(c.key) ?? { label: `${c.name} (${c.role}, ${c.key})`, cpu: 0 };
      e.cpu += c.cpu_user_ms + c.cpu_system_ms;
      byKey.set(c.key, e);
    }
  }
  const spanMs = sum(p.frames, (f) => f.interval_ms);
  if (byKey.size === 0 || spanMs === 0) return null;
  const top = [...byKey.values()].reduce((a, b) => (b.cpu > a.cpu ? b : a));
  return { label: top.label, share: top.cpu / spanMs };
}

/**
 * The CPU the point used: the server's share of the cores it may run on (`serverCores`: pinned, else the host's),
 * and the host's share with the load generator's and the backend tier's CPU added (they run on the same machine and
 * take the same cores).
 */
export function cpuShares(
  p: LoadPoint,
  host: HostCores | null,
  serverCores: number | null,
): { server: number; host: number; generator: number; backend: number } | null {
  const spanMs = sum(p.frames, (f) => f.interval_ms);
  const contexts = p.frames.flatMap((f) => f.contexts);
  if (host === null || contexts.length === 0 || spanMs === 0) return null;
  const cores = effectiveCores(host);
  const server = sum(contexts, (c) => c.cpu_user_ms + c.cpu_system_ms) / spanMs;
  const generator = sum(p.frames, (f) => f.generator?.cpu_ms ?? 0) / spanMs;
  const backend = sum(p.frames, (f) => f.backend?.cpu_ms ?? 0) / spanMs;
  return { server: server / Math.min(cores, serverCores ?? cores), host: (server + generator + backend) / cores, generator: generator / cores, backend: backend / cores };
}

/**
 * What gave out past the knee: read at the first point past it (`past[0]`), and where that shows none of the causes,
 * at the next ones in turn (`past`, by offered rate). The knee is where latency turned, which a queue does before what
 * it waits for is plainly saturated: a backend serving 4 calls at once turned p99 up at half its limit, where its
 * slots were not yet all busy, and read as unknown although the points further on showed it
 * (test/slow/capacity-command.test.ts, once in several runs).
 */
export function whatGaveOutPastKnee(
  model: string,
  past: readonly LoadPoint[],
  light: LoadPoint,
  host: HostCores | null,
  maxErrorRate: number,
  serverCores: number | null = null,
): GaveOut {
  const first = whatGaveOut(model, past[0], light, host, maxErrorRate, serverCores);
  if (first.cause !== 'unknown') return first;
  for (const p of past.slice(1)) {
    const gave = whatGaveOut(model, p, light, host, maxErrorRate, serverCores);
    if (gave.cause !== 'unknown') {
      return { cause: gave.cause, evidence: [...gave.evidence, `read at ${reqPerSec(p.offered_rps)} offered: at ${reqPerSec(past[0].offered_rps)}, the first point past the knee, the frames showed none of the causes yet`] };
    }
  }
  return first;
}

/**
 * What gave out at `at` (the first point past the knee), with `light` (the lightest point) to compare against.
 * `serverCores`: the CPUs the server was pinned to (null: the host's).
 */
export function whatGaveOut(model: string, at: LoadPoint, light: LoadPoint, host: HostCores | null, maxErrorRate: number, serverCores: number | null = null): GaveOut {
  const s = at.stats;
  const mean = s.latency_ms.mean ?? serverTimeMs(at);
  const cpu = cpuShares(at, host, serverCores);
  const cpuLine =
    cpu === null
      ? null
      : `the server's CPU ${pct(cpu.server)} of ${serverCores ? `the ${serverCores} cores it was pinned to` : 'the host\'s cores'}, the host's ${pct(cpu.host)} with the load generator's ${pct(cpu.generator)} and the backend's ${pct(cpu.backend)}`;
  const withCpu = (list: (string | null)[]) => list.filter((x): x is string => x !== null);

  const own = generatorOwn(at.frames);
  if (own.cpuBound) return { cause: 'generator', evidence: [`the generator ran out of CPU at ${at.offered_rps} req/s offered (${s.generator_saturation.join('; ')})`] };

  const backend = backendLimit(at.frames, s);
  if (backend !== null) return { cause: 'backend', evidence: [backend] };

  const server = serverTimeMs(at);
  const queue = s.parts_ms.server_queue;
  if (PER_CONNECTION_MODELS.includes(model as ModelId) && queue !== null && server !== null && server > 0 && queue >= CREATION_SHARE * server) {
    return {
      cause: 'context_creation',
      evidence: withCpu([
        `${ms(queue)} of ${ms(server)} on the server went from accept to the handler (the new context's start)`,
        s.cpu_ms_per_request !== null ? `${ms(s.cpu_ms_per_request)} CPU per request (${light.stats.cpu_ms_per_request !== null ? `${ms(light.stats.cpu_ms_per_request)} at ${light.offered_rps} req/s` : 'none at light load'})` : null,
        cpuLine,
      ]),
    };
  }

  const busiest = busiestContext(at);
  if ((cpu !== null && Math.max(cpu.server, cpu.host) >= HOST_CPU_BUSY) || (busiest !== null && busiest.share >= CPU_SATURATION_SHARE)) {
    return {
      cause: 'cpu',
      evidence: withCpu([
        busiest ? `the busiest context, ${busiest.label}, used ${pct(busiest.share)} of a core` : null,
        cpuLine,
        s.cpu_ms_per_request !== null ? `${ms(s.cpu_ms_per_request)} CPU per request` : null,
      ]),
    };
  }

  const rq = s.runqueue_wait_ms_per_request;
  if (rq !== null && server !== null && server > 0 && rq >= RUNQUEUE_SHARE * server) {
    return { cause: 'runqueue', evidence: withCpu([`${ms(rq)} per request waiting for a core, of ${ms(server)} on the server`, cpuLine]) };
  }

  const waited = (s.parts_ms.accept_queue ?? 0) + (s.parts_ms.server_queue ?? 0);
  if (mean !== null && mean > 0 && waited >= QUEUE_SHARE * mean) {
    const aq = s.accept_queue;
    return {
      cause: 'accept_queue',
      evidence: withCpu([
        `${ms(waited)} of ${ms(mean)} mean waiting to be taken by a context (accept queue ${ms(s.parts_ms.accept_queue ?? 0)}, server queue ${ms(s.parts_ms.server_queue ?? 0)})`,
        aq ? `up to ${aq.max} connections waiting to be accepted` : null,
        cpuLine ? `while ${cpuLine}` : null,
      ]),
    };
  }

  const loop = s.eventloop_delay_ms;
  if (loop !== null && mean !== null && mean > 0 && loop.p99 >= LOOP_DELAY_SHARE * mean && (s.eventloop_utilization ?? 0) < LOOP_BUSY) {
    return {
      cause: 'loop_delay',
      evidence: withCpu([
        `event-loop delay p99 ${ms(loop.p99)} against a mean latency of ${ms(mean)}, the loop ${pct(s.eventloop_utilization ?? 0)} busy`,
        rq !== null ? `${ms(rq)} per request waiting for a core` : null,
        cpuLine,
      ]),
    };
  }

  // The same queue, begun at the client: each of its connections held by the server (a context busy with it, or the
  // connection waiting in the accept queue for one), the requests beyond them wait for a free connection there. The
  // generator's backlog says so (requests due, not sent, for want of a connection: ARCHITECTURE section 6), and its
  // wait is then the server's doing. Tried last, so that any cause the server shows itself comes first.
  const clientWait = s.parts_ms.send_wait ?? 0;
  const backlogged = at.frames.filter((f) => (f.generator?.backlog ?? 0) > 0).length;
  if (mean !== null && mean > 0 && backlogged * 2 >= at.frames.length && waited + clientWait >= QUEUE_SHARE * mean) {
    const aq = s.accept_queue;
    return {
      cause: 'accept_queue',
      evidence: withCpu([
        `${ms(waited + clientWait)} of ${ms(mean)} mean waiting to be taken: ${ms(clientWait)} for one of the client's connections, every one held by the server (requests left unsent in ${backlogged} of ${at.frames.length} intervals), accept queue ${ms(s.parts_ms.accept_queue ?? 0)}, server queue ${ms(s.parts_ms.server_queue ?? 0)}`,
        aq ? `up to ${aq.max} connections waiting to be accepted` : null,
        cpuLine ? `while ${cpuLine}` : null,
      ]),
    };
  }

  if (at.error_rate > maxErrorRate) return { cause: 'errors', evidence: [`${pct(at.error_rate)} of requests failed at ${at.offered_rps} req/s offered`] };
  return { cause: 'unknown', evidence: withCpu([`at ${at.offered_rps} req/s offered: ${at.achieved_rps} req/s answered, p99 ${at.p99_ms === null ? '-' : ms(at.p99_ms)}`, cpuLine]) };
}
