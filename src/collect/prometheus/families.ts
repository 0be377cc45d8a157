/**
 * The agent's Prometheus families that a report reads, named as the agent's scrape page names them: by
 * prometheusName (src/vocabulary/metric-names.ts) from the OTLP names, with the units the page gives them.
 */
import { ATTR, CONTEXT_THREADS, METRIC, labelName, prometheusName as p } from '../../vocabulary/index.js';

export const FAMILY = {
  requests: p(METRIC.requests, '{request}', 'counter'),
  joined: p(METRIC.requestsJoined, '{request}', 'counter'),
  inFlight: p(METRIC.inFlightTime, 's', 'counter'),
  partTime: p(METRIC.partTime, 's', 'counter'),
  partEntries: p(METRIC.partEntries, '{entry}', 'counter'),
  splitRequests: p(METRIC.requestsSplit, '{request}', 'counter'),
  splitTime: p(METRIC.requestsSplitTime, 's', 'counter'),
  threadTime: p(METRIC.requestThreadTime, 's', 'counter'),
  duration: p(METRIC.requestDuration, 's', 'histogram'),
  loopDelay: p(METRIC.eventLoopDelay, 's', 'histogram'),
  loopUtilization: p(METRIC.eventLoopUtilization, '1', 'gauge'),
  threadCpu: p(METRIC.threadCpuTime, 's', 'counter'),
  threadSwitches: p(METRIC.threadContextSwitches, '{context_switch}', 'counter'),
  threadRunqueue: p(METRIC.threadRunqueueWait, 's', 'counter'),
  threads: CONTEXT_THREADS,
  processCpu: p(METRIC.cpuTime, 's', 'counter'),
  processSwitches: p(METRIC.contextSwitches, '{context_switch}', 'counter'),
  processRunqueue: p(METRIC.runqueueWait, 's', 'counter'),
  rss: p(METRIC.memoryUsage, 'By', 'gauge'),
  dropped: p(METRIC.agentDropped, '{record}', 'counter'),
  errors: p(METRIC.agentErrors, '{error}', 'counter'),
  targetInfo: 'target_info',
} as const;

/** Labels of the page. */
export const LABEL = {
  thread: labelName(ATTR.threadName),
  kind: labelName(ATTR.contextKind),
  part: labelName(ATTR.part),
  cpuMode: labelName(ATTR.cpuMode),
  switchType: labelName(ATTR.contextSwitchType),
  threadState: labelName(ATTR.threadState),
  service: labelName(ATTR.serviceName),
  pid: labelName(ATTR.processPid),
  model: labelName(ATTR.model),
  role: labelName(ATTR.role),
  cpuLimit: labelName(ATTR.cpuLimit),
  cpuLimitSource: labelName(ATTR.cpuLimitSource),
} as const;
