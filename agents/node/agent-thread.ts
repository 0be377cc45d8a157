/**
 * The agent's own thread. It reads every JavaScript thread's shared ring and the kernel's per-thread counters once
 * per interval (this process's, and those of children that leave theirs to it: child-processes.ts), and exports them
 * over OTLP. Because it runs on its own, it reports threads that block for seconds
 * (the blocking models) and a main thread whose loop is stuck, and the host's loop never runs the exporter.
 * Its own CPU shows as the `srvlens-agent` context: the agent's cost is measured like everything else.
 */
import { writeFileSync } from 'node:fs';
import { BroadcastChannel, parentPort, workerData } from 'node:worker_threads';
import { AGENT_THREAD_COMM, ATTR, intervalIndex, monoMs, monoToEpochMs } from '../../src/vocabulary/index.js';
import { cpuLimit } from '../../src/vocabulary/cpu-limit.js';
import type { IntervalRecord } from './interval-record.js';
import { agentResource, MetricExport } from './metric-export.js';
import { ExemplarSpans } from './exemplar-spans.js';
import { AdoptedChildren } from './adopted-children.js';
import { CumulativeTotals } from './prometheus-cumulative.js';
import { startPrometheusEndpoint } from './prometheus-endpoint.js';
import { toPrometheusText } from './prometheus-text.js';
import { currentTid } from './thread-recorder.js';
import { bearerHeader } from '../../src/vocabulary/exposure.js';
import {
  announcementOf,
  isToAgentThread,
  REGISTRY_CHANNEL,
  type AgentThreadData,
  type FromAgentThread,
  type HandOffData,
  type ThreadAnnouncement,
} from './thread-messages.js';
import { ThreadRing } from './thread-ring.js';
import { TaskReader } from './thread-stats.js';
import { harvestThreads, registered, type Registered } from './ring-threads.js';
import { ChildProcesses } from './child-processes.js';

/** How long after a boundary the harvest runs: writers finish the old interval's bucket well within this. */
const HARVEST_DELAY_MS = 5;

// agent.ts builds it `satisfies AgentThreadData`: taken for that type here, as a forked child takes its config.
const { config, startIndex }: AgentThreadData = workerData;
const ownTid = currentTid();
const threads = new Map<number, Registered>();
/** Children that live for one connection, read from /proc until their hand-off. */
const children = new AdoptedChildren();
/** Children whose rings this thread maps (shared-rings.ts): the ones that hand off are left to `children`. */
const sharing = new ChildProcesses(config.intervalMs, (pid) => children.has(pid));
/** Every thread's counters, from /proc/self/task; the schedstat files it keeps open are this thread's for good. */
const taskReader = new TaskReader();
let lastTasks = taskReader.readAll();
let lastUsage = process.resourceUsage();
let queue: IntervalRecord[] = [];
let exporting = false;
/** The records of the export in flight: the SDK may be encoding them, so nothing joins them (joinQueued). */
let inFlight = new Set<IntervalRecord>();
let errors = 0;
/** Errors already sent with a record: with `errors`, the agent's since it started (for tests, as `exported`). */
let errorsReported = 0;
try {
  writeFileSync('/proc/thread-self/comm', AGENT_THREAD_COMM);
} catch {
  errors++; // no name: the /proc agent then counts this thread as the host's
}
let droppedIntervals = 0;
/**
 * The drops and errors that records dropped from the queue carried: without this a collector gone for longer than
 * the queue lasts saw one drop in three (measured, test/agents/collector-down.test.ts), the others lost with the
 * records that counted them.
 */
let carried = { dropped: 0, errors: 0 };
/** The last interval harvested: from the one in which the agent started, even if this thread loaded later. */
let lastIndex = startIndex - 1;
/** Intervals exported successfully (for tests, through the parent's `stats` request). */
let exported = 0;

function register(m: ThreadAnnouncement): void {
  if (m.pid !== process.pid) return;
  const known = threads.get(m.tid);
  if (known && known.ring.buffer === m.buffer) {
    known.name = m.name;
    known.hasLoop = m.hasLoop;
    return;
  }
  threads.set(m.tid, registered(m.tid, m.name, m.hasLoop, new ThreadRing(config.intervalMs, m.buffer, false)));
}

const channel = new BroadcastChannel(REGISTRY_CHANNEL);
channel.onmessage = (e) => {
  const announcement = announcementOf(e);
  if (announcement) register(announcement);
};
const post = (m: FromAgentThread) => parentPort?.postMessage(m);
parentPort?.on('message', (m: unknown) => {
  if (!isToAgentThread(m)) return;
  switch (m.type) {
    case 'stats':
      return post({ type: 'stats', exported, errors: errorsReported + errors, threads: threads.size });
    case 'flush':
      return flushNow();
    // A child whose rings are read here (a starved agent thread found them before its adoption came) is counted
    // from them: its adoption and its hand-off would count it twice.
    case 'foreign':
      if (!sharing.has(m.pid)) foreign(m);
      return;
    case 'adopt':
      if (!sharing.has(m.pid)) children.adopt(m.pid, m.name, m.atMs);
      return;
    default:
      register(m);
  }
});

/**
 * Reports a child that lived for one connection as a context of this process (`pid/childpid`): the requests its
 * buckets hold, and what of its totals the harvests have not read from /proc yet (all of them for a child never
 * adopted). That rest is laid over the time since the last read, in proportion to the time in each interval, at
 * most over the interval before the hand-off and the hand-off's own: the collector has closed older frames by then.
 * Sent as records of their own: an interval already exported gets a second record, which the collector adds to the
 * first.
 */
function foreign(m: HandOffData): void {
  try {
    const endMs = m.endMs;
    const rest = children.remainder(
      m.pid,
      { userMs: m.cpuUserMs, systemMs: m.cpuSystemMs, voluntary: m.voluntary, involuntary: m.involuntary, runqueueMs: 0 },
      m.startMs,
    );
    const last = intervalIndex(endMs, config.intervalMs);
    const first = Math.max(last - 1, intervalIndex(Math.min(rest.sinceMs, endMs), config.intervalMs));
    const startMs = Math.max(rest.sinceMs, first * config.intervalMs);
    const lifeMs = endMs - startMs;
    const firstRecord = Math.min(first, ...m.buckets.map((b) => b.index));
    // Counts are whole: each interval gets the rounded cumulative share less what the ones before it got.
    let before = 0;
    let given = { voluntary: 0, involuntary: 0 };
    for (let index = firstRecord; index <= last; index++) {
      const from = Math.max(startMs, index * config.intervalMs);
      const to = Math.min(endMs, (index + 1) * config.intervalMs);
      const share = index < first ? 0 : index === last ? 1 - before : lifeMs > 0 ? Math.max(0, to - from) / lifeMs : 0;
      before += share;
      const voluntary = Math.round(rest.voluntary * before) - given.voluntary;
      const involuntary = Math.round(rest.involuntary * before) - given.involuntary;
      given = { voluntary: given.voluntary + voluntary, involuntary: given.involuntary + involuntary };
      const bucket = m.buckets.find((b) => b.index === index) ?? null;
      if (share === 0 && bucket === null) continue;
      const start = index * config.intervalMs;
      const record: IntervalRecord = {
        index,
        startEpochMs: monoToEpochMs(start),
        endEpochMs: monoToEpochMs(start + config.intervalMs),
        contexts: [
          {
            tid: m.pid,
            name: m.name,
            kind: 'js',
            threads: 1,
            cpuUserMs: rest.userMs * share,
            cpuSystemMs: rest.systemMs * share,
            voluntary,
            involuntary,
            runqueueMs: 0,
            bucket,
            hasLoop: false,
            utilization: null,
          },
        ],
        process: { cpuUserMs: 0, cpuSystemMs: 0, voluntary: 0, involuntary: 0, runqueueMs: 0, rssBytes: 0 },
        children: [],
        dropped: 0,
        errors: 0,
      };
      totals?.add(record);
      joinQueued(record);
    }
  } catch {
    errors++;
  }
}

/**
 * Puts a hand-off's record in the queue: its contexts join the queued record of the same interval when one is waiting
 * (not in an export in flight), and the record of the interval in progress waits for its harvest, which takes them
 * in. So a server forking a process per request sends one record per interval, not one per child, and not after the
 * interval's frame: the collector closes a frame two intervals after its end once the agent has reported it, and at
 * 50 forks a second the children's records, exported one after another, came after that (test/e2e/fork-cpu.test.ts).
 */
function joinQueued(record: IntervalRecord): void {
  const queued = waitingFor(record.index);
  if (queued) queued.contexts.push(...record.contexts);
  else queue.push(record);
}

/** The queued record of interval `index` that no export in flight holds, if there is one (joinQueued keeps it one). */
function waitingFor(index: number): IntervalRecord | undefined {
  return queue.find((r) => r.index === index && !inFlight.has(r));
}

// With a token, every export says it: a collector beyond loopback asks for it (OTEL_EXPORTER_OTLP_HEADERS, which
// the exporter reads itself, adds to it).
const headers = config.token === null ? undefined : bearerHeader(config.token);
// Read once, as the agent starts: a container's limits are set before its processes start, and the resource of an
// export does not change while it runs.
const limit = cpuLimit();
const own = {
  [ATTR.processPid]: process.pid,
  [ATTR.model]: config.model,
  [ATTR.role]: config.role,
  [ATTR.intervalMs]: config.intervalMs,
  [ATTR.cpuLimit]: limit.cores,
  [ATTR.cpuLimitSource]: limit.source,
};
/**
 * The SDK's pipeline and the exemplars' tracer, once the detectors have read the resource (host.id and the container
 * id come from files) and the exporter of the protocol has loaded: until then records wait in the queue.
 */
let pipeline: MetricExport | null = null;
let exemplars: ExemplarSpans | null = null;
/** The scrape page's target_info: srvlens's attributes until the detected resource is in. */
let target: Record<string, string | number> = { ...own, [ATTR.serviceName]: config.serverName ?? (process.title || 'node') };
agentResource(config, own)
  .then((resource) => {
    target = resource.attributes as Record<string, string | number>;
    if (config.exemplars) exemplars = new ExemplarSpans(resource, config.collectorUrl, config.intervalMs, headers);
    return MetricExport.create(config, resource, headers);
  })
  .then(
    (p) => (pipeline = p),
    () => errors++,
  );

/** With SRVLENS_PROMETHEUS_PORT: every record harvested is also summed here, for the scrape endpoint to read. */
const totals = config.prometheus ? new CumulativeTotals() : null;
if (config.prometheus && totals) {
  try {
    startPrometheusEndpoint({ ...config.prometheus, token: config.token, render: () => toPrometheusText(totals, target), onError: () => errors++ });
  } catch {
    errors++;
  }
}

/** Everything the interval `index` holds: one context per JS thread, the agent's, and the rest folded into one. */
function harvest(index: number): IntervalRecord {
  const tasks = taskReader.readAll(lastTasks);
  const nowIndex = intervalIndex(monoMs(), config.intervalMs);
  const own = harvestThreads(threads, index, tasks, lastTasks, ownTid, nowIndex);
  sharing.discover(tasks, lastTasks, monoMs());
  const shared = sharing.harvest(index, nowIndex, monoMs());
  const contexts = [...own.contexts, ...children.harvest(monoMs()), ...shared.contexts];
  lastTasks = tasks;
  const usage = process.resourceUsage();
  const start = index * config.intervalMs;
  const record: IntervalRecord = {
    index,
    startEpochMs: monoToEpochMs(start),
    endEpochMs: monoToEpochMs(start + config.intervalMs),
    contexts,
    process: {
      cpuUserMs: (usage.userCPUTime - lastUsage.userCPUTime) / 1000,
      cpuSystemMs: (usage.systemCPUTime - lastUsage.systemCPUTime) / 1000,
      voluntary: usage.voluntaryContextSwitches - lastUsage.voluntaryContextSwitches,
      involuntary: usage.involuntaryContextSwitches - lastUsage.involuntaryContextSwitches,
      runqueueMs: own.sum.runqueueMs,
      rssBytes: process.memoryUsage.rss(),
    },
    children: shared.processes,
    dropped: own.dropped + droppedIntervals,
    errors: own.errors + errors,
  };
  lastUsage = usage;
  droppedIntervals = 0;
  errorsReported += errors;
  errors = 0;
  return record;
}

/** Callbacks waiting for the queue to be sent (a flush before exit). */
let whenSent: (() => void)[] = [];

function sent(): void {
  const list = whenSent;
  whenSent = [];
  for (const f of list) f();
}

/**
 * The process is about to exit: harvest the interval in progress too, send everything, then say so. That interval
 * is then done for this agent: requests finishing later in it are not counted (the process is ending anyway).
 */
function flushNow(): void {
  try {
    harvestThrough(intervalIndex(monoMs(), config.intervalMs));
  } catch {
    errors++;
  }
  whenSent.push(() => post({ type: 'flushed' }));
  flush();
}

/**
 * At most this many intervals an export: after an outage the queue (up to SRVLENS_EXPORT_QUEUE) goes out in pieces,
 * oldest first, rather than encoded whole at every try.
 */
const MAX_BATCH = 10;
/**
 * After a failed export the next waits, doubling from one interval up to this: a collector gone is not hammered.
 * An export that failed by running out of time is not a collector gone but a slow one, or a starved host (this
 * thread and the collector short of CPU, as beside a server forking a process a request): it is tried again at the
 * next boundary, with no wait. Doubling then made exports rarer the slower they were, until whole phases' records
 * were dropped from the queue or came after their frames had closed (test/e2e/fork-cpu.test.ts).
 */
const MAX_RETRY_WAIT_MS = 5000;
let retryWaitMs = 0;
let retryAtMs = 0;

/**
 * Sends what is queued, one export at a time, oldest first; what failed stays queued (bounded, drops counted), and is
 * tried again after a wait that doubles with each failure. A flush before exit tries at once.
 */
function flush(): void {
  if (exporting) return;
  if (pipeline?.exports === false) queue = []; // nowhere to send: the records served the Prometheus totals, and go
  if (queue.length === 0 || pipeline === null) return sent();
  if (whenSent.length === 0 && monoMs() < retryAtMs) return;
  // Hand-offs in the interval in progress wait for its harvest, to go out in its record (harvestThrough); a flush
  // before exit sends them as they are.
  const ready = whenSent.length > 0 ? queue : queue.filter((r) => r.index <= lastIndex);
  if (ready.length === 0) return;
  const batch = ready.slice(0, MAX_BATCH);
  exporting = true;
  inFlight = new Set(batch);
  const startedMs = monoMs();
  pipeline.export(batch, (ok) => {
    exporting = false;
    inFlight = new Set();
    if (ok) {
      retryWaitMs = 0;
      retryAtMs = 0;
      // By identity: while this export was in flight the bound may have shifted older records out.
      queue = queue.filter((r) => !batch.includes(r));
      exported += batch.length;
      // The rest of the queue, and records harvested while this export was in flight, go out now.
      flush();
    } else {
      errors++;
      const timedOut = monoMs() - startedMs >= 0.9 * config.exportGivesUpMs;
      retryWaitMs = timedOut ? 0 : Math.min(MAX_RETRY_WAIT_MS, Math.max(config.intervalMs, retryWaitMs * 2));
      retryAtMs = monoMs() + retryWaitMs;
      sent(); // a flush waits for one attempt, not for a collector that is gone
    }
  });
}

/** One record per interval since the last harvest, through `last` (as far back as the rings reach). */
function harvestThrough(last: number): void {
  for (let index = Math.max(lastIndex + 1, last - 7); index <= last; index++) {
    const record = harvest(index);
    totals?.add(record);
    // The contexts of children that handed off during this interval, queued for it before it was harvested (one
    // record at most: joinQueued puts them all in one).
    const early = waitingFor(index);
    if (early) {
      record.contexts.push(...early.contexts);
      queue = queue.filter((r) => r !== early);
    }
    // What the records dropped before it said was dropped goes on with this one (the totals counted it already).
    record.dropped += carried.dropped;
    record.errors += carried.errors;
    carried = { dropped: 0, errors: 0 };
    queue.push(record);
    exemplars?.emit(record.contexts);
  }
  lastIndex = Math.max(lastIndex, last);
  while (queue.length > config.exportQueue) {
    const lost = queue.shift()!;
    droppedIntervals++;
    carried = { dropped: carried.dropped + lost.dropped, errors: carried.errors + lost.errors };
  }
}

function onBoundary(): void {
  try {
    // Until the first ring is announced there is nothing to read, and harvesting would move past intervals the
    // rings still hold: wait (they hold eight).
    if (threads.size > 0) {
      harvestThrough(intervalIndex(monoMs(), config.intervalMs) - 1);
      flush();
    }
  } catch {
    errors++;
  }
  schedule();
}

function schedule(): void {
  const now = monoMs();
  const next = (Math.floor(now / config.intervalMs) + 1) * config.intervalMs;
  setTimeout(onBoundary, next - now + HARVEST_DELAY_MS);
}

schedule();
