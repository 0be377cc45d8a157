/**
 * The overhead bench's OpenTelemetry variant, as an app would set it up: `node --import <this file> app.js` with
 * the NodeSDK, `HttpInstrumentation` and a `BatchSpanProcessor`, over an exporter that counts spans and drops them
 * (so the figure is the cost of making spans, not of shipping them).
 *
 * An ESM app's `import http from 'node:http'` is not seen by require-in-the-middle, and import-in-the-middle needs
 * its own loader hook. HttpInstrumentation patches `http.Server.prototype.emit`, a prototype that CJS and ESM
 * share, so one `require('http')` after the SDK starts patches the server the app creates later (checked on Node
 * 20.20.2: without that require, 0 spans for 10 requests to an ESM server; with it, 10). The same require wraps the
 * module's `request` and `get`, which an ESM app's default import (`http.get(...)`) looks up on that same object at
 * each call: its outgoing calls get CLIENT spans too (the bench counts both kinds). Whether it worked is
 * reported, with the span count, over IPC: a variant that made no spans would measure nothing.
 *
 * Set OTEL_METRICS_EXPORTER=none and OTEL_LOGS_EXPORTER=none in the app's environment, or the SDK retries
 * localhost:4318.
 */
import { createRequire } from 'node:module';
import { SpanKind } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { OTEL_SPANS_QUERY, type OtelSpanReport } from './otel-ipc.js';

class CountingExporter implements SpanExporter {
  exported = 0;
  server = 0;
  client = 0;

  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    this.exported += spans.length;
    for (const span of spans) {
      if (span.kind === SpanKind.SERVER) this.server++;
      else if (span.kind === SpanKind.CLIENT) this.client++;
    }
    done({ code: 0 }); // ExportResultCode.SUCCESS
  }

  async shutdown(): Promise<void> {}
}

const exporter = new CountingExporter();
const processor = new BatchSpanProcessor(exporter);
const sdk = new NodeSDK({ spanProcessors: [processor], instrumentations: [new HttpInstrumentation()] });
sdk.start();

const http = createRequire(import.meta.url)('http') as typeof import('node:http');
const patched = (): boolean => '__wrapped' in http.Server.prototype.emit;

// Only a forked app has a channel to answer on; started by hand, the preload just instruments.
process.on('message', (m: { type?: string }) => {
  if (m?.type !== OTEL_SPANS_QUERY) return;
  void processor.forceFlush().finally(() => {
    const { exported, server, client } = exporter;
    const report: OtelSpanReport = { type: 'otel-spans', exported, server, client, patched: patched() };
    if (process.connected) process.send?.(report);
  });
});
