/**
 * Names a server's concurrency model from what the /proc agent saw over a window: the shape of the process tree,
 * how each process spreads its work over threads (thread-shape.ts), how many connections one context held at once,
 * and whether connections waited in the accept queue. A pure function from a window to a finding, so it is tested
 * on synthetic windows. When the window cannot tell two models apart, the answer is `unknown` with what is missing.
 */
import type { ModelId } from '../vocabulary/model-ids.js';
import { MIN_CPU_MS_FOR_SHARES, threadShape, type ThreadShape } from './thread-shape.js';
import { ranMs, type ProcessWindow, type WindowSummary } from '../vocabulary/window-summary.js';

/** The reference servers' ids; `event-loop-raw` is not one: from outside, its parser and node:http's look alike. */
export type DetectedModel = Exclude<ModelId, 'event-loop-raw'> | 'unknown';

export interface ModelFinding {
  model: DetectedModel;
  /** Facts a reader can check, the deciding ones first. */
  evidence: string[];
}

/** Child processes created and ended in the window, as MIN_THREAD_CHURN is for threads: past a pool's recycling. */
export const MIN_PROCESS_CHURN = 3;

/** Waiting for a CPU for a tenth of the time spent on one is contention worth saying, whatever the model. */
export const CONTENDED_RUNQUEUE_SHARE = 0.1;

/** A pool and a context per connection differ only when connections open and close within the window. */
const samePoolOrPerConnection = (what: 'thread' | 'process') =>
  `no ${what === 'thread' ? 'threads' : 'worker processes'} created or ended during the window; a server with a ${what} per connection looks the same while its connections stay open (keep-alive clients): new connections during the window tell them apart`;

const ONE_AT_A_TIME_IS_AMBIGUOUS =
  'serving one connection at a time and multiplexing look alike when no two connections are open at once: drive concurrent connections while attaching';

export function detectModel(w: WindowSummary): ModelFinding {
  const finding = w.samples < 2 ? unknown(`only ${w.samples} sample: a window needs two to measure anything`) : decide(w);
  return { model: finding.model, evidence: [...finding.evidence, ...treeFacts(w)] };
}

const unknown = (...evidence: string[]): ModelFinding => ({ model: 'unknown', evidence });
const queuePeak = (w: WindowSummary) => Math.max(0, ...w.listeners.map((l) => l.peak));
const conns = (n: number) => `${n} connection${n === 1 ? '' : 's'}`;

function decide(w: WindowSummary): ModelFinding {
  const lasting = w.processes.filter((p) => !p.born && !p.ended);
  const group = workerGroup(lasting);
  const forks = perConnectionForks(w, group?.workers.length ?? 0);
  if (forks) return { model: 'fork-per-connection', evidence: forks };
  if (group) return decideWorkers(w, group.master, group.workers);
  return decideOneProcess(w, servingProcess(lasting.length > 0 ? lasting : w.processes));
}

/**
 * Evidence of a process made per connection, or null: children created and ended in the window beyond the
 * recycling of a pool, none holding more than one connection. Either end of their lives suffices when those children
 * each held a connection: attached while keep-alive clients arrive, none has ended yet; while they leave, none is new.
 * (A pool that shrinks ends idle workers, which held none.)
 */
function perConnectionForks(w: WindowSummary, poolSize: number): string[] | null {
  const children = w.processes.filter((p) => p.pid !== w.root_pid);
  const created = children.filter((p) => p.born).length;
  const ended = children.filter((p) => p.ended).length;
  const churned = children.filter((p) => p.born || p.ended);
  const serving = churned.filter((p) => p.inbound_max === 1).length;
  const most = Math.max(0, ...churned.map((p) => p.inbound_max));
  if (churned.length <= poolSize || most > 1) return null;
  if (Math.min(created, ended) < MIN_PROCESS_CHURN && serving < MIN_PROCESS_CHURN) return null;
  return [`processes created during the window: ${created}, ended: ${ended}`, `each of them held at most ${conns(most)} at once (${serving} held one)`];
}

/** The largest set of two or more lasting processes of one executable under one parent: a master's workers. */
function workerGroup(lasting: ProcessWindow[]): { master: number; workers: ProcessWindow[] } | null {
  const groups = new Map<string, ProcessWindow[]>();
  for (const p of lasting) {
    const key = `${p.ppid}\0${p.exe ?? p.name}`;
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  const largest = [...groups.values()].sort((a, b) => b.length - a.length)[0];
  return largest && largest.length >= 2 ? { master: largest[0].ppid, workers: largest } : null;
}

/** The process that held the most connections, else the listener, else the busiest. */
function servingProcess(ps: ProcessWindow[]): ProcessWindow {
  const score = (p: ProcessWindow) => [p.inbound_max, p.holds_listener ? 1 : 0, p.cpu_ms];
  return [...ps].sort((a, b) => {
    const [x, y] = [score(a), score(b)];
    return y[0] - x[0] || y[1] - x[1] || y[2] - x[2];
  })[0];
}

function decideOneProcess(w: WindowSummary, p: ProcessWindow): ModelFinding {
  const shape = threadShape(p, w.contexts);
  if (shape.kind === 'churn') return { model: 'thread-per-connection', evidence: [shape.evidence, `PID ${p.pid} held up to ${conns(p.inbound_max)} at once`] };
  if (shape.kind === 'unclear' || shape.kind === 'pair') return unknown(shape.evidence);
  if (!p.sockets_readable) return unknown(shape.evidence, `the connections of PID ${p.pid} are unknown (its fds could not be read)`);
  const held = `PID ${p.pid} held up to ${conns(p.inbound_max)} at once`;
  if (shape.kind === 'shared') {
    if (p.inbound_max > shape.working) {
      return { model: 'hybrid', evidence: [shape.evidence, `${held}, more than the threads working: connections do not each have a thread`] };
    }
    return { model: 'thread-pool', evidence: [shape.evidence, `${held}, no more than the threads working`, samePoolOrPerConnection('thread')] };
  }
  if (shape.kind === 'one-with-helpers') {
    return p.inbound_max > 1 ? { model: 'hybrid', evidence: [shape.evidence, held] } : unknown(shape.evidence, held, ONE_AT_A_TIME_IS_AMBIGUOUS);
  }
  if (p.inbound_max > 1) return { model: 'event-loop', evidence: [shape.evidence, `${held} on that one thread`] };
  const peak = queuePeak(w);
  if (peak >= 1) {
    return { model: 'iterative', evidence: [shape.evidence, `at most 1 connection was open at a time, while up to ${peak} waited in the accept queue`] };
  }
  return unknown(shape.evidence, `${held}, and none waited in the accept queue`, ONE_AT_A_TIME_IS_AMBIGUOUS);
}

/** A process whose threads share its work in any way: made per connection, a pool, or helpers beside one. */
const threaded = (s: ThreadShape) => s.kind === 'churn' || s.kind === 'shared' || s.kind === 'one-with-helpers';

/**
 * Whether workers hand their work to threads is the program's design, the same in every worker; a GC cycle or a JIT
 * burst on a runtime's helper threads is one process's moment. So it takes most of the workers that served (held a
 * connection; all of them when none was seen holding one) to show it, not any one worker. Measured in 5 s windows of
 * event-loop-per-core at 3-25 req/s (Node 20 workers, srvlens's agent preloaded): now and then one worker runs a GC
 * cycle, its 4 V8 threads 10-50 ms each at once and its agent's thread up to 55 ms, beside a loop of 30-70 ms.
 */
function threadedWorkers(shapes: { p: ProcessWindow; shape: ThreadShape }[]) {
  const held = shapes.filter((s) => s.p.inbound_max > 0 || !s.p.sockets_readable);
  const served = held.length > 0 ? held : shapes;
  const several = served.filter((s) => threaded(s.shape));
  return { served: served.length, several, byDesign: several.length * 2 > served.length };
}

function decideWorkers(w: WindowSummary, master: number, workers: ProcessWindow[]): ModelFinding {
  const exe = workers[0].exe ?? workers[0].name;
  const head = [`${workers.length} worker processes of the same executable (${exe}) under one master (PID ${master})`];
  const shapes = workers.map((p) => ({ p, shape: threadShape(p, w.contexts) }));
  const { served, several, byDesign } = threadedWorkers(shapes);
  if (byDesign) {
    const which = several.length === workers.length ? 'the workers' : `${several.length} of the ${served} workers that served`;
    return { model: 'hybrid', evidence: [...head, `${which} run several threads each: ${several[0].shape.evidence}`] };
  }
  // A worker too idle to judge says nothing either way; the others decide. One thread beside one busy helper is one
  // serving thread here: a pool of two in each worker is the rarer design, and one helper is not handed-over work
  // (MIN_WORKING_HELPERS). One whose helpers were busy in this window when most were not still tells how many
  // connections it held.
  const single = [...shapes.filter((s) => s.shape.kind === 'one'), ...shapes.filter((s) => s.shape.kind === 'pair')];
  if (single.length === 0) return unknown(...head, ...shapes.map((s) => s.shape.evidence));
  const judged = [...single, ...several];
  if (judged.some((s) => !s.p.sockets_readable)) return unknown(...head, 'the workers\' connections are unknown (their fds could not be read)');
  head.push(`each worker serves on one thread (${single[0].shape.evidence})`);
  if (several.length > 0) {
    head.push(`${several.length} of the ${served} workers that served also ran busy helper threads in this window (${several[0].shape.evidence}): not most of them, so the runtime's own work (a GC cycle, JIT), not how the server serves`);
  }
  head.push(`${workers.length} workers for ${w.cores} CPU cores`);
  const most = judged.reduce((a, b) => (b.p.inbound_max > a.p.inbound_max ? b : a)).p;
  if (most.inbound_max > 1) {
    const on = single.some((s) => s.p === most) ? ' on its one thread' : '';
    return { model: 'event-loop-per-core', evidence: [...head, `worker PID ${most.pid} held up to ${conns(most.inbound_max)} at once${on}`] };
  }
  const serving = judged.filter((s) => s.p.inbound_max === 1).length;
  const peak = queuePeak(w);
  if (most.inbound_max === 1 && (serving >= 2 || peak >= 1)) {
    return {
      model: 'prefork',
      evidence: [
        ...head,
        `each worker held at most 1 connection at a time (${serving} of them served)`,
        ...(peak >= 1 ? [`up to ${peak} connections waited in the accept queue`] : []),
        samePoolOrPerConnection('process'),
      ],
    };
  }
  return unknown(...head, `the workers held at most ${conns(most.inbound_max)} at a time`, ONE_AT_A_TIME_IS_AMBIGUOUS);
}

/** What the reader should know whatever the model: the tree's size, its CPU and contention, its listeners. */
function treeFacts(w: WindowSummary): string[] {
  const out: string[] = [];
  const threads = w.contexts.length;
  out.push(`seen in ${(w.duration_ms / 1000).toFixed(1)} s (${w.samples} samples): ${w.processes.length} process${w.processes.length === 1 ? '' : 'es'}, ${threads} thread${threads === 1 ? '' : 's'}`);
  const cpu = w.processes.reduce((s, p) => s + p.cpu_ms, 0);
  if (w.duration_ms > 0) out.push(`CPU: ${cpu.toFixed(0)} ms, ${((cpu / w.duration_ms) * 100).toFixed(0)} % of one core`);
  const ran = w.contexts.reduce((s, c) => s + ranMs(c), 0);
  const waited = w.contexts.reduce((s, c) => s + (c.runqueue_wait_ms ?? 0), 0);
  if (ran >= MIN_CPU_MS_FOR_SHARES && waited >= CONTENDED_RUNQUEUE_SHARE * ran) {
    out.push(`threads waited ${waited.toFixed(0)} ms for a CPU, ${Math.round((waited / ran) * 100)} % of the ${ran.toFixed(0)} ms they ran: the CPUs were contended`);
  }
  for (const l of w.listeners) {
    out.push(`listening on ${l.listen}: accept queue ${l.length} at the end, peak ${l.peak}, backlog ${l.max ?? 'unknown'}`);
  }
  if (w.listeners.length === 0 && w.processes.every((p) => p.sockets_readable)) out.push('no listening TCP socket in the tree');
  for (const p of w.processes) if (!p.sockets_readable) out.push(`the fds of PID ${p.pid} could not be read (another user's process?): run as its user or root to see its sockets`);
  if (w.root_ended) out.push(`PID ${w.root_pid} ended during the window`);
  return out;
}
