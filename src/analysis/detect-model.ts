/**
 * Names a server's concurrency model from what the /proc agent saw over a window: the shape of the process tree,
 * how each process spreads its work over threads (thread-shape.ts), how many connections one context held at once,
 * and whether connections waited in the accept queue. A pure function from a window to a finding, so it is tested
 * on synthetic windows. When the window cannot tell two models apart, the answer is `unknown` with what is missing.
 */
import type { Confidence, ModelId } from '../vocabulary/model-ids.js';
import { MIN_CPU_MS_FOR_SHARES, threadShape, type ThreadShape } from './thread-shape.js';
import { ranMs, type ProcessWindow, type WindowSummary } from '../vocabulary/window-summary.js';

/** The reference servers' ids; `event-loop-raw` is not one: from outside, its parser and node:http's look alike. */
export type DetectedModel = Exclude<ModelId, 'event-loop-raw'> | 'unknown';

export interface ModelFinding {
  model: DetectedModel;
  /** How sure (vocabulary/model-ids.ts); null with `unknown`. */
  confidence: Confidence | null;
  /** Facts a reader can check, the deciding ones first. */
  evidence: string[];
}

/** Child processes created and ended in the window, as MIN_THREAD_CHURN is for threads: past a pool's recycling. */
export const MIN_PROCESS_CHURN = 3;

/**
 * Workers that must have served in the window before their shape names a model when no connection was seen held
 * two at once: one serving worker is one process serving, which says nothing of a pool (`unknown`, as for a single
 * process); two show the work spread over the pool.
 */
export const MIN_SERVING_WORKERS = 2;

/**
 * A worker that woke at least this often a second (voluntary context switches) served, whether or not a sample caught
 * it holding a connection: one that serves wakes at least once per connection, one that only keeps house far less.
 * Measured in 3 s windows here: idle workers of Debian's Apache (prefork) and nginx woke 0 times; serving ~190 short
 * connections a second each, ~380 times a second.
 */
export const MIN_SERVING_WAKEUPS_PER_S = 2;

/**
 * Where a thread sleeps, from its wait channel (/proc/PID/wchan, the most frequent over the window): in accept
 * (`inet_csk_accept`) it takes one connection and serves it before taking the next; in a multiplexer
 * (`do_epoll_wait`, `poll_schedule_timeout`, `do_select`) it may be watching many.
 */
const SLEEPS_IN_ACCEPT = /accept/;
const SLEEPS_IN_MULTIPLEXER = /epoll|poll|select/;

/** Waiting for a CPU for a tenth of the time spent on one is contention worth saying, whatever the model. */
export const CONTENDED_RUNQUEUE_SHARE = 0.1;

/** A pool and a context per connection differ only when connections open and close within the window. */
const samePoolOrPerConnection = (what: 'thread' | 'process') =>
  `no ${what === 'thread' ? 'threads' : 'worker processes'} created or ended during the window; a server with a ${what} per connection looks the same while its connections stay open (keep-alive clients): new connections during the window tell them apart`;

const ONE_AT_A_TIME_IS_AMBIGUOUS =
  'serving one connection at a time and multiplexing look alike when no two connections are open at once: drive concurrent connections while attaching';

export function detectModel(w: WindowSummary): ModelFinding {
  const finding = w.samples < 2 ? unknown(`only ${w.samples} sample: a window needs two to measure anything`) : decide(w);
  return { model: finding.model, confidence: finding.confidence, evidence: [...finding.evidence, ...treeFacts(w)] };
}

const unknown = (...evidence: string[]): ModelFinding => ({ model: 'unknown', confidence: null, evidence });
const named = (model: Exclude<DetectedModel, 'unknown'>, confidence: Confidence, evidence: string[]): ModelFinding => ({ model, confidence, evidence });
const queuePeak = (w: WindowSummary) => Math.max(0, ...w.listeners.map((l) => l.peak));
const conns = (n: number) => `${n} connection${n === 1 ? '' : 's'}`;

function decide(w: WindowSummary): ModelFinding {
  const lasting = w.processes.filter((p) => !p.born && !p.ended);
  const group = workerGroup(lasting);
  const forks = perConnectionForks(w, group?.workers.length ?? 0);
  if (forks) return forks;
  if (group) return decideWorkers(w, group.master, group.workers);
  return decideOneProcess(w, servingProcess(lasting.length > 0 ? lasting : w.processes));
}

/**
 * A process made per connection, or null: children created and ended in the window beyond the recycling of a pool,
 * none holding more than one connection. Either end of their lives suffices when those children each held a
 * connection: attached while keep-alive clients arrive, none has ended yet; while they leave, none is new. (A pool
 * that shrinks ends idle workers, which held none.) Sure when MIN_PROCESS_CHURN of them were seen holding their
 * connection; less when they came and went between readings of the TCP tables (connections shorter than the
 * sampling), since children made and ended for some other reason (a program run per request) look the same.
 */
function perConnectionForks(w: WindowSummary, poolSize: number): ModelFinding | null {
  const children = w.processes.filter((p) => p.pid !== w.root_pid);
  const created = children.filter((p) => p.born).length;
  const ended = children.filter((p) => p.ended).length;
  const churned = children.filter((p) => p.born || p.ended);
  const serving = churned.filter((p) => p.inbound_max === 1).length;
  const most = Math.max(0, ...churned.map((p) => p.inbound_max));
  if (churned.length <= poolSize || most > 1) return null;
  if (Math.min(created, ended) < MIN_PROCESS_CHURN && serving < MIN_PROCESS_CHURN) return null;
  const evidence = [`processes created during the window: ${created}, ended: ${ended}`, `each of them held at most ${conns(most)} at once (${serving} held one)`];
  if (serving >= MIN_PROCESS_CHURN) return named('fork-per-connection', 'high', evidence);
  evidence.push(`fewer than ${MIN_PROCESS_CHURN} were seen holding their connection: connections shorter than the sampling interval come and go between samples, so it is not seen that each child served one`);
  return named('fork-per-connection', 'medium', evidence);
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
  if (shape.kind === 'churn') {
    // Threads made and ended for some other reason (a task each) look the same until connections are seen on them.
    return named('thread-per-connection', p.inbound_max >= 2 ? 'high' : 'medium', [shape.evidence, `PID ${p.pid} held up to ${conns(p.inbound_max)} at once`]);
  }
  if (shape.kind === 'unclear' || shape.kind === 'pair') return unknown(shape.evidence);
  if (!p.sockets_readable) return unknown(shape.evidence, `the connections of PID ${p.pid} are unknown (its fds could not be read)`);
  const held = `PID ${p.pid} held up to ${conns(p.inbound_max)} at once`;
  if (shape.kind === 'shared') {
    if (p.inbound_max > shape.working) {
      return named('hybrid', 'high', [shape.evidence, `${held}, more than the threads working: connections do not each have a thread`]);
    }
    return named('thread-pool', 'medium', [shape.evidence, `${held}, no more than the threads working`, samePoolOrPerConnection('thread')]);
  }
  if (shape.kind === 'one-with-helpers') {
    return p.inbound_max > 1 ? named('hybrid', 'high', [shape.evidence, held]) : unknown(shape.evidence, held, ONE_AT_A_TIME_IS_AMBIGUOUS);
  }
  if (p.inbound_max > 1) return named('event-loop', 'high', [shape.evidence, `${held} on that one thread`]);
  const peak = queuePeak(w);
  if (peak >= 1) {
    return named('iterative', 'high', [shape.evidence, `at most 1 connection was open at a time, while up to ${peak} waited in the accept queue`]);
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
    return named('hybrid', 'high', [...head, `${which} run several threads each: ${several[0].shape.evidence}`]);
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
    return named('event-loop-per-core', 'high', [...head, `worker PID ${most.pid} held up to ${conns(most.inbound_max)} at once${on}`]);
  }
  return decideOneAtATime(w, judged.map((s) => s.p), head);
}

/** Connections one at a time on each worker, or none seen: prefork, or loops that never had two to multiplex. */
function decideOneAtATime(w: WindowSummary, workers: ProcessWindow[], head: string[]): ModelFinding {
  const holding = workers.filter((p) => p.inbound_max === 1).length;
  const peak = queuePeak(w);
  const seen = holding > 0 ? `each worker held at most 1 connection at a time (${holding} of them were seen holding one)` : 'no worker was seen holding a connection: connections shorter than the sampling interval come and go between samples';
  const evidence = [...head, seen, ...(peak >= 1 ? [`up to ${conns(peak)} waited in the accept queue`] : [])];
  const oneAtATime = holding >= 2 || (holding === 1 && peak >= 1);
  const serving = workers.filter((p) => servedInWindow(p, w));
  if (!oneAtATime && serving.length < MIN_SERVING_WORKERS) {
    return unknown(...evidence, `${serving.length} of the ${workers.length} workers served in the window (held a connection, or woke at least ${MIN_SERVING_WAKEUPS_PER_S} times a second): an idle pool looks the same under every model, drive load while attaching`);
  }
  if (!oneAtATime) evidence.push(`${serving.length} of the ${workers.length} workers served in the window: they woke ${wakeups(serving, w)}`);
  const sleep = sleepsIn(serving, w);
  if (sleep.where !== null) evidence.push(sleep.evidence);
  if (sleep.where === 'accept') return named('prefork', 'high', [...evidence, samePoolOrPerConnection('process')]);
  if (oneAtATime) return named('prefork', sleep.where === 'multiplexer' ? 'low' : 'medium', [...evidence, samePoolOrPerConnection('process')]);
  // Neither seen: the pool's structure is what is left. Workers that do not hold the listener are handed their work
  // (by the master, over pipes or queues): nothing of how they serve connections shows.
  if (!serving.every((p) => p.holds_listener)) return unknown(...evidence, 'not all the workers that served hold the listening socket: they are handed their work, and how they serve connections does not show', ONE_AT_A_TIME_IS_AMBIGUOUS);
  evidence.push(`the ${serving.length} workers that served share the listening socket`);
  // How the pool is sized and where its workers sleep are the two hints left; they must agree.
  const moreThanCores = workers.length > w.cores;
  if (sleep.where === 'multiplexer' && !moreThanCores) {
    return named('event-loop-per-core', 'low', [...evidence, 'no more workers than cores, each sleeping in a multiplexer: a loop per core, unless it is a pool that polls before it accepts; two connections open at once on one worker would tell']);
  }
  if (sleep.where !== 'multiplexer' && moreThanCores) {
    return named('prefork', 'low', [...evidence, 'more workers than cores: a pool sized for connections, not for cores; connections seen held one at a time, or the workers seen sleeping in accept, would make it sure']);
  }
  return unknown(...evidence, ONE_AT_A_TIME_IS_AMBIGUOUS);
}

/** The thread a single-threaded worker serves on is its main one. */
const mainThread = (p: ProcessWindow, w: WindowSummary) => w.contexts.find((c) => c.pid === p.pid && c.tid === p.pid);

/** Held a connection at a sample, or woke often enough to have served some between samples (MIN_SERVING_WAKEUPS_PER_S). */
function servedInWindow(p: ProcessWindow, w: WindowSummary): boolean {
  if (p.inbound_max > 0) return true;
  const woke = mainThread(p, w)?.voluntary ?? 0;
  return w.duration_ms > 0 && woke / (w.duration_ms / 1000) >= MIN_SERVING_WAKEUPS_PER_S;
}

function wakeups(ps: ProcessWindow[], w: WindowSummary): string {
  const n = ps.map((p) => mainThread(p, w)?.voluntary ?? 0);
  const [lo, hi] = [Math.min(...n), Math.max(...n)];
  return `${lo === hi ? lo : `${lo}-${hi}`} times each in ${(w.duration_ms / 1000).toFixed(1)} s (voluntary context switches)`;
}

/** Where most of these workers' serving threads slept: in accept, in a multiplexer, or neither said (null). */
function sleepsIn(ps: ProcessWindow[], w: WindowSummary): { where: 'accept' | 'multiplexer' | null; evidence: string } {
  const waits = ps.map((p) => mainThread(p, w)?.wait ?? null);
  for (const [where, re] of [['accept', SLEEPS_IN_ACCEPT], ['multiplexer', SLEEPS_IN_MULTIPLEXER]] as const) {
    const these = waits.filter((x): x is string => x !== null && re.test(x));
    if (these.length * 2 <= ps.length) continue;
    const how = where === 'accept' ? 'a worker takes one connection and serves it before it takes the next' : 'where a loop watches many connections, and where a pool that polls before it accepts waits too';
    return { where, evidence: `${these.length} of the ${ps.length} workers that served sleep in ${where === 'accept' ? 'accept' : 'a multiplexer'} (${these[0]}): ${how}` };
  }
  return { where: null, evidence: '' };
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
  // One that ended was on its way out (its fds already closed): that is no reason to run as another user.
  for (const p of w.processes) if (!p.sockets_readable && !p.ended) out.push(`the fds of PID ${p.pid} could not be read (another user's process?): run as its user or root to see its sockets`);
  if (w.root_ended) out.push(`PID ${w.root_pid} ended during the window`);
  return out;
}
