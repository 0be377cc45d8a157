/**
 * The agent's configuration, from documented environment variables only (it runs preloaded, before any app code).
 *
 * SRVLENS_AGENT_DISABLED=1        load but do nothing
 * SRVLENS_INTERVAL_MS=1000        interval length; aligned on the host's monotonic clock
 * SRVLENS_COLLECTOR_URL=URL       OTLP/HTTP metrics endpoint (e.g. http://127.0.0.1:4318/v1/metrics); when unset the
 *                                 standard OTEL_EXPORTER_OTLP_METRICS_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT apply
 * SRVLENS_SERVER_NAME=name        service.name of the exported resource (default: the process title)
 * SRVLENS_MODEL=id                the concurrency model, when known (srvlens.model)
 * SRVLENS_ROLE=role               what this process is in its server (srvlens.role), e.g. server, worker
 * SRVLENS_EXPORT_QUEUE=60         intervals kept while the collector is slow or gone; older ones are dropped and counted
 * SRVLENS_EXEMPLARS=1             exemplar tracing: per thread and interval, the 2 slowest requests and 2 drawn at
 *                                 random, exported as OTel spans (traces endpoint beside the metrics one)
 */
export interface AgentConfig {
  disabled: boolean;
  intervalMs: number;
  collectorUrl: string | undefined;
  serverName: string;
  model: string;
  role: string;
  exportQueue: number;
  exemplars: boolean;
}

function int(value: string | undefined, fallback: number, min: number, max: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n >= min && n <= max ? n : fallback;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): AgentConfig {
  return {
    disabled: env.SRVLENS_AGENT_DISABLED === '1',
    intervalMs: int(env.SRVLENS_INTERVAL_MS, 1000, 100, 60_000),
    collectorUrl: env.SRVLENS_COLLECTOR_URL || undefined,
    serverName: env.SRVLENS_SERVER_NAME || process.title || 'node',
    model: env.SRVLENS_MODEL || 'unknown',
    role: env.SRVLENS_ROLE || 'server',
    exportQueue: int(env.SRVLENS_EXPORT_QUEUE, 60, 1, 10_000),
    exemplars: env.SRVLENS_EXEMPLARS === '1',
  };
}
