/**
 * What each variant's instrumentation saw of its trial, checked against the generator's side: the srvlens agent's
 * exported request counts and downstream time, its exemplar spans, OpenTelemetry's server and client spans.
 */
import { intervalIndex, monoMs } from '../../src/vocabulary/index.js';
import type { ManagedChild } from '../../src/scenario/children.js';
import { EX_SLOWEST } from '../../agents/node/thread-ring.js';
import type { AgentReports } from './collector.js';
import type { BenchModel } from './models.js';
import type { BenchCase } from './options.js';
import { OTEL_SPANS_QUERY, type OtelSpanReport } from './otel-ipc.js';
import { PROM_COUNT_QUERY, type PromCountReport } from './prom-client-ipc.js';
import type { CaseExpectations, Trial } from './summary.js';
import { isPlainApp, UPSTREAM, WORKLOADS } from './workloads.js';

/**
 * The plain app's check: the agent must time at least this share of the upstream's delay as each request's
 * downstream. The call takes the delay and more (loopback, parsing, the loop's turns), so a working agent reports
 * over 1x; an agent whose call timing did not run reports 0.
 */
const MIN_DOWNSTREAM_SHARE = 0.5;
/** The agent exports each interval a few ms after its boundary; wait for the one the load ended in, this many intervals. */
const LAST_INTERVAL_TIMEOUT_INTERVALS = 3;
/**
 * Exemplar spans leave through a BatchSpanProcessor that exports every interval (exemplar-spans.ts), so those of
 * the last interval arrive up to an interval after its metrics: wait for them this many intervals beyond that.
 */
const EXEMPLAR_TIMEOUT_INTERVALS = 3;
const PRELOAD_QUERY_TIMEOUT_MS = 10_000;
const POLL_MS = 50;

/** `checkAborted` throws once the bench is interrupted, so that no wait outlasts a Ctrl-C. */
async function waitUntil(done: () => boolean, timeoutMs: number, checkAborted: () => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) {
    checkAborted();
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * The agent's exported request counts for this server, summed over its processes (prefork: an agent in each
 * worker), once the interval the load ended in has arrived from every one of them.
 */
export async function verifyAgent(trial: Trial, pids: readonly number[], reports: AgentReports, intervalMs: number, checkAborted: () => void): Promise<void> {
  const last = intervalIndex(monoMs(), intervalMs);
  const arrived = () => pids.every((pid) => reports.intervals(pid).some((i) => i.index >= last));
  await waitUntil(arrived, intervalMs * LAST_INTERVAL_TIMEOUT_INTERVALS, checkAborted);
  const list = pids.flatMap((pid) => reports.intervals(pid));
  trial.seenWhat = 'agent-counted requests';
  // With per-thread data the agent's threads each carry their own requests; without, the process context does.
  trial.seen = list.reduce((n, i) => n + i.contexts.reduce((m, c) => m + c.requests, 0), 0);
  const downstreamMs = list.reduce((n, i) => n + i.contexts.reduce((m, c) => m + c.stage_ms.downstream, 0), 0);
  trial.downstreamMsPerRequest = trial.seen > 0 ? downstreamMs / trial.seen : null;
  for (const pid of pids) if (reports.intervals(pid).length === 0) trial.problems.push(`the agent (pid ${pid}) exported no interval to the collector`);
  const errors = list.reduce((n, i) => n + i.agent_errors, 0);
  const dropped = list.reduce((n, i) => n + i.dropped, 0);
  if (errors > 0) trial.problems.push(`the agent counted ${errors} errors in its callbacks`);
  if (dropped > 0) trial.problems.push(`the agent dropped ${dropped} requests or intervals`);
  if (reports.rejected.length > 0) trial.problems.push(`the collector rejected exports: ${reports.rejected[0].reason}`);
}

/**
 * Exemplar spans of this server's processes at the collector, against what the agents' intervals say they kept. Per
 * thread and interval an agent keeps the EX_SLOWEST slowest requests (all of them when fewer), which is exact, and a
 * random sample, which may leave a slot empty (about 2/n in an interval of n requests), so only the slowest are
 * checked. Waits for the last interval's spans, which trail its metrics by up to an interval.
 */
export async function verifyExemplars(trial: Trial, pids: readonly number[], reports: AgentReports, intervalMs: number, checkAborted: () => void): Promise<void> {
  const intervals = pids.flatMap((pid) => reports.intervals(pid));
  const expectedSlowest = intervals.reduce((n, i) => n + i.contexts.reduce((m, c) => m + Math.min(c.requests, EX_SLOWEST), 0), 0);
  const spans = () => pids.map((pid) => reports.exemplars(pid)).reduce((a, b) => ({ slowest: a.slowest + b.slowest, sampled: a.sampled + b.sampled }));
  await waitUntil(() => spans().slowest >= expectedSlowest, intervalMs * EXEMPLAR_TIMEOUT_INTERVALS, checkAborted);
  trial.exemplars = { ...spans(), expectedSlowest };
}

/** A preload's answer to one question over IPC (the OTel and prom-client variants count what they saw). */
async function askPreload<T>(server: ManagedChild, query: string, answerType: string): Promise<T> {
  const answer = server.waitFor(answerType, PRELOAD_QUERY_TIMEOUT_MS);
  server.send({ type: query });
  return (await answer) as unknown as T;
}

/**
 * What a preload has counted so far in a server the bench keeps across its trials: each trial's figures are the
 * counts since the last (`since`, updated here).
 */
export interface PreloadCounts {
  server: number;
  client: number;
}

/** The OTel preload's own count of the spans it exported, asked of the server over IPC (otel-ipc.ts beside this file). */
export async function verifyOtel(trial: Trial, server: ManagedChild, since: PreloadCounts): Promise<void> {
  const report = await askPreload<OtelSpanReport>(server, OTEL_SPANS_QUERY, 'otel-spans');
  trial.seenWhat = 'OTel server spans exported';
  trial.seen = report.server - since.server;
  trial.otelClientSpans = report.client - since.client;
  since.server = report.server;
  since.client = report.client;
  if (!report.patched) trial.problems.push('HttpInstrumentation did not patch node:http');
}

/** The prom-client variant: how many requests its histogram observed. */
export async function verifyPromClient(trial: Trial, server: ManagedChild, since: PreloadCounts): Promise<void> {
  const report = await askPreload<PromCountReport>(server, PROM_COUNT_QUERY, 'prom-count');
  trial.seenWhat = 'prom-client observations';
  trial.seen = report.observed - since.server;
  since.server = report.observed;
}

/** What each case's instrumentation must have seen (summary.ts checks it). */
export function expectations(model: BenchModel, workload: BenchCase['workload']): CaseExpectations {
  const w = WORKLOADS[workload];
  const plain = isPlainApp(w);
  return {
    otelServerSpans: model.nodeHttp,
    preloadUnreachable: model.preloadUnreachable,
    otelClientSpans: plain && w.client === 'http',
    otelUnseenCalls:
      plain && w.client === 'fetch'
        ? 'fetch (undici) calls make no OTel span: @opentelemetry/instrumentation-undici is not installed in this repo, ' +
          'so otel/none here is the cost of the server spans alone'
        : null,
    downstream: plain
      ? { minMs: MIN_DOWNSTREAM_SHARE * UPSTREAM.delayMs, what: `${MIN_DOWNSTREAM_SHARE} x the upstream's ${UPSTREAM.delayMs} ms` }
      : null,
  };
}
