/**
 * Exemplar traces: the requests the threads kept whole become OTel SERVER spans, children of the client's span
 * when the request carried a traceparent (so the generator's view and the server's join on one trace id), with
 * each part as an event at its offset and as an attribute. Marked `srvlens.exemplar`, so a srvlens collector keeps
 * them as exemplars and does not count them as requests a second time.
 */
import { ROOT_CONTEXT, SpanKind, TraceFlags, trace, type Attributes } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR, STAGES, monoToEpochMs } from '../../src/vocabulary/index.js';
import type { ContextRecord } from './interval-record.js';

export class ExemplarSpans {
  private readonly provider: BasicTracerProvider;
  private readonly tracer;

  constructor(resource: Resource, metricsUrl: string | undefined, intervalMs: number, headers?: Record<string, string>) {
    // Beside the srvlens collector's metrics endpoint; else the standard OTEL_EXPORTER_OTLP_* variables apply.
    const url = metricsUrl?.replace(/\/v1\/metrics$/, '/v1/traces');
    this.provider = new BasicTracerProvider({
      resource,
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url, headers }), { scheduledDelayMillis: intervalMs, maxQueueSize: 2048 })],
    });
    this.tracer = this.provider.getTracer('srvlens-agent-node');
  }

  emit(contexts: ContextRecord[]): void {
    for (const c of contexts) {
      for (const e of c.bucket?.exemplars ?? []) {
        const parent =
          e.traceId && e.parentSpanId
            ? trace.setSpanContext(ROOT_CONTEXT, { traceId: e.traceId, spanId: e.parentSpanId, traceFlags: TraceFlags.SAMPLED, isRemote: true })
            : ROOT_CONTEXT;
        const attributes: Attributes = {
          [ATTR.exemplar]: e.kind,
          [ATTR.threadId]: c.tid,
          [ATTR.threadName]: c.name,
          [ATTR.durationMs]: e.wallMs,
        };
        STAGES.forEach((stage, i) => {
          if (e.stageMs[i] > 0) attributes[`srvlens.part.${stage}_ms`] = e.stageMs[i];
        });
        const span = this.tracer.startSpan('http.server.request', { kind: SpanKind.SERVER, startTime: monoToEpochMs(e.startMs), attributes }, parent);
        // The parts in the order they happen (the queue parts end where the handler starts).
        let at = e.startMs - e.stageMs[0] - e.stageMs[1];
        STAGES.forEach((stage, i) => {
          if (e.stageMs[i] <= 0) return;
          span.addEvent(stage, { [ATTR.part]: stage, [ATTR.durationMs]: e.stageMs[i] }, monoToEpochMs(at));
          at += e.stageMs[i];
        });
        span.end(monoToEpochMs(e.startMs + e.wallMs));
      }
    }
  }

  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}
