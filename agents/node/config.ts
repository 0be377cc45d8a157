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
 * SRVLENS_OUTGOING_CALLS=0        do not time the app's outgoing node:http and fetch calls as downstream (on by default;
 *                                 an app whose requests make calls pays for it: ~7-12 % CPU per request on Node 20,
 *                                 the AsyncLocalStorage that ties each call to its request, bench/als-cost)
 * SRVLENS_PROMETHEUS_PORT=9464    serve GET /metrics in the Prometheus text format (totals since the agent started),
 *                                 from the agent thread; unset, or not a port in 1..65535: no endpoint. A port in use is
 *                                 reported once on stderr and the agent carries on without it (so in a process tree
 *                                 that inherits the variable, the first process to bind it serves its own figures)
 * SRVLENS_PROMETHEUS_HOST=ADDR    the address the endpoint listens on (default 127.0.0.1: loopback only); an address
 *                                 beyond loopback only with SRVLENS_TOKEN (else no endpoint, said once on stderr)
 * SRVLENS_TOKEN=TOKEN             sent as Authorization: Bearer TOKEN with every OTLP export (a collector bound beyond
 *                                 loopback asks for it), and asked of every scrape of the endpoint above. The standard
 *                                 OTEL_EXPORTER_OTLP_HEADERS apply to the exports too
 * OTEL_METRICS_EXPORTER=none      (or =prometheus) with no SRVLENS_COLLECTOR_URL: no OTLP export at all, e.g. when
 *                                 Prometheus scrapes the endpoint above and no collector listens
 */
import { DEFAULT_INTERVAL_MS, MAX_INTERVAL_MS, MIN_INTERVAL_MS } from '../../src/vocabulary/intervals.js';

export interface AgentConfig {
  disabled: boolean;
  intervalMs: number;
  collectorUrl: string | undefined;
  serverName: string;
  model: string;
  role: string;
  exportQueue: number;
  exemplars: boolean;
  /** Time outgoing node:http and fetch calls as downstream (agents/node/outgoing-calls.ts). */
  outgoingCalls: boolean;
  /** Export over OTLP (false only when asked for with OTEL_METRICS_EXPORTER and no srvlens collector is named). */
  otlp: boolean;
  /** The Prometheus endpoint's address, or null when it is off. */
  prometheus: { host: string; port: number } | null;
  /** SRVLENS_TOKEN: the bearer sent with exports and asked of scrapes; null when unset. */
  token: string | null;
}

function int(value: string | undefined, fallback: number, min: number, max: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n >= min && n <= max ? n : fallback;
}

function prometheusAddress(port: string, host: string | undefined): AgentConfig['prometheus'] {
  const n = int(port, 0, 1, 65_535);
  return n === 0 ? null : { host: host || '127.0.0.1', port: n };
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): AgentConfig {
  return {
    disabled: env.SRVLENS_AGENT_DISABLED === '1',
    intervalMs: int(env.SRVLENS_INTERVAL_MS, DEFAULT_INTERVAL_MS, MIN_INTERVAL_MS, MAX_INTERVAL_MS),
    collectorUrl: env.SRVLENS_COLLECTOR_URL || undefined,
    serverName: env.SRVLENS_SERVER_NAME || process.title || 'node',
    model: env.SRVLENS_MODEL || 'unknown',
    role: env.SRVLENS_ROLE || 'server',
    exportQueue: int(env.SRVLENS_EXPORT_QUEUE, 60, 1, 10_000),
    exemplars: env.SRVLENS_EXEMPLARS === '1',
    outgoingCalls: env.SRVLENS_OUTGOING_CALLS !== '0',
    otlp: Boolean(env.SRVLENS_COLLECTOR_URL) || !['none', 'prometheus'].includes(env.OTEL_METRICS_EXPORTER ?? ''),
    prometheus: env.SRVLENS_PROMETHEUS_PORT
      ? prometheusAddress(env.SRVLENS_PROMETHEUS_PORT, env.SRVLENS_PROMETHEUS_HOST)
      : null,
    // Read here, not through vocabulary/exposure.ts: the preload reads this file in every thread, and the check's
    // crypto and address rules are needed only in the agent thread.
    token: env.SRVLENS_TOKEN || null,
  };
}
