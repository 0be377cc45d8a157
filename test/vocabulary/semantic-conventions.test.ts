/**
 * The vocabulary spells the OpenTelemetry semantic-convention names the agents export (metric-names.ts says why it
 * does not import them). Each spelling is held here to the constant of @opentelemetry/semantic-conventions (a
 * devDependency), so a typo, or a convention renamed in a new version of the package, fails here.
 */
import { describe, expect, it } from 'vitest';
import * as semconv from '@opentelemetry/semantic-conventions/incubating';
import { ATTR, METRIC } from '../../src/vocabulary/metric-names.js';

describe('semantic-convention names', () => {
  it.each([
    [METRIC.cpuTime, semconv.METRIC_PROCESS_CPU_TIME],
    [METRIC.contextSwitches, semconv.METRIC_PROCESS_CONTEXT_SWITCHES],
    [METRIC.memoryUsage, semconv.METRIC_PROCESS_MEMORY_USAGE],
    [METRIC.eventLoopUtilization, semconv.METRIC_NODEJS_EVENTLOOP_UTILIZATION],
    [METRIC.requestDuration, semconv.METRIC_HTTP_SERVER_REQUEST_DURATION],
    [ATTR.cpuMode, semconv.ATTR_CPU_MODE],
    [ATTR.contextSwitchType, semconv.ATTR_PROCESS_CONTEXT_SWITCH_TYPE],
    [ATTR.processPid, semconv.ATTR_PROCESS_PID],
    [ATTR.threadId, semconv.ATTR_THREAD_ID],
    [ATTR.threadName, semconv.ATTR_THREAD_NAME],
    [ATTR.serviceName, semconv.ATTR_SERVICE_NAME],
  ])('%s is the convention\'s name', (ours, theirs) => {
    expect(ours).toBe(theirs);
  });

  it('names of our own are under srvlens.*, not a convention\'s namespace', () => {
    const conventions = new Set((Object.values(semconv) as unknown[]).filter((v) => typeof v === 'string'));
    const own = [...Object.values(METRIC), ...Object.values(ATTR)].filter((n: string) => !conventions.has(n));
    expect(own.filter((n) => !n.startsWith('srvlens.'))).toEqual([]);
  });
});
