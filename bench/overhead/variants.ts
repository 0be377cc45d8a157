/** How each variant of a trial starts its server: the preload (none, the srvlens agent, OTel's HTTP tracing) and its environment. */
import { pathToFileURL } from 'node:url';
import { ENTRY } from '../../src/vocabulary/package-paths.js';
import { benchFile } from '../child-entries.js';
import type { BenchModel } from './models.js';
import type { VariantId } from './summary.js';

export interface VariantLaunch {
  execArgv: string[];
  env: Record<string, string>;
}

/** `metricsUrl`: the bench's collector; `intervalMs`: the agent's interval. */
export function variantLaunch(variant: VariantId, model: BenchModel, metricsUrl: string, intervalMs: number): VariantLaunch {
  const agent = {
    // The agent derives its traces endpoint (exemplar spans) from this one: /v1/metrics -> /v1/traces.
    SRVLENS_COLLECTOR_URL: metricsUrl,
    SRVLENS_INTERVAL_MS: String(intervalMs),
    SRVLENS_MODEL: model.agentModel,
    SRVLENS_SERVER_NAME: 'agent-overhead-bench',
  };
  switch (variant) {
    case 'none':
      return { execArgv: [], env: {} };
    case 'srvlens':
      return { execArgv: ['--import', ENTRY.agent], env: agent };
    case 'exemplars':
      return { execArgv: ['--import', ENTRY.agent], env: { ...agent, SRVLENS_EXEMPLARS: '1' } };
    case 'prom-client':
      return { execArgv: ['--import', pathToFileURL(benchFile('overhead/prom-client-preload.js')).href], env: {} };
    case 'otel': {
      const preload = pathToFileURL(benchFile('overhead/otel-http-preload.js')).href;
      // The SDK's defaults would otherwise export metrics and logs to localhost:4318 and retry on shutdown.
      return { execArgv: ['--import', preload], env: { OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' } };
    }
  }
}
