/**
 * The agent's configuration, from documented environment variables only (it runs preloaded, before any app code).
 *
 * The standard OpenTelemetry SDK variables configure the export (agents/node/metric-export.ts), as in any
 * OpenTelemetry app:
 *
 * OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT   where metrics go (default http://localhost:4318)
 * OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_EXPORTER_OTLP_METRICS_PROTOCOL   http/protobuf (the default), http/json or grpc
 * OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TIMEOUT (and their _METRICS_ forms)
 * OTEL_METRICS_EXPORTER           otlp (default), console, prometheus, none; a list separated by commas
 * OTEL_EXPORTER_PROMETHEUS_HOST, OTEL_EXPORTER_PROMETHEUS_PORT       with prometheus: the scrape endpoint's address
 *                                 (default 127.0.0.1:9464; beyond loopback only with SRVLENS_TOKEN)
 * OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES   the resource; OTEL_NODE_RESOURCE_DETECTORS picks the detectors
 *                                 (env, host, os, process, serviceinstance, container, all, none; default: env,
 *                                 host, process, container)
 *
 * SRVLENS_* is for what only srvlens has:
 *
 * SRVLENS_AGENT_DISABLED=1        load but do nothing
 * SRVLENS_INTERVAL_MS=1000        interval length; aligned on the host's monotonic clock
 * SRVLENS_COLLECTOR_URL=URL       a srvlens collector's metrics endpoint (srvlens run sets it): exported to over
 *                                 OTLP/HTTP whatever OTEL_METRICS_EXPORTER says, and in place of the OTEL endpoints
 * SRVLENS_SERVER_NAME=name        service.name, over OTEL_SERVICE_NAME (srvlens run names each server it starts, and
 *                                 its collector tells servers apart by it); with neither, the process title
 * SRVLENS_MODEL=id                the concurrency model, when known (srvlens.model)
 * SRVLENS_ROLE=role               what this process is in its server (srvlens.role), e.g. server, worker
 * SRVLENS_EXPORT_QUEUE=60         intervals kept while the collector is slow or gone; older ones are dropped and counted
 * SRVLENS_EXEMPLARS=1             exemplar tracing: per thread and interval, the 2 slowest requests and 2 drawn at
 *                                 random, exported as OTel spans (traces endpoint beside the metrics one)
 * SRVLENS_OUTGOING_CALLS=0        do not time the app's outgoing node:http and fetch calls as downstream (on by default;
 *                                 an app whose requests make calls pays for it: ~7-12 % CPU per request on Node 20,
 *                                 the AsyncLocalStorage that ties each call to its request, bench/als-cost)
 * SRVLENS_PROMETHEUS_PORT=9464    serve GET /metrics in the Prometheus text format (totals since the agent started),
 *                                 from the agent thread, whatever OTEL_METRICS_EXPORTER says; unset, or not a port in
 *                                 1..65535: no endpoint (unless OTEL_METRICS_EXPORTER names prometheus). A port in use
 *                                 is reported once on stderr and the agent carries on without it (so in a process tree
 *                                 that inherits the variable, the first process to bind it serves its own figures)
 * SRVLENS_PROMETHEUS_HOST=ADDR    the address the endpoint listens on (default 127.0.0.1: loopback only); an address
 *                                 beyond loopback only with SRVLENS_TOKEN (else no endpoint, said once on stderr)
 * SRVLENS_TOKEN=TOKEN             sent as Authorization: Bearer TOKEN with every OTLP/HTTP export (a collector bound
 *                                 beyond loopback asks for it), and asked of every scrape of the endpoint above. The
 *                                 standard OTEL_EXPORTER_OTLP_HEADERS apply to the exports too (and alone to grpc)
 */
import { DEFAULT_INTERVAL_MS, MAX_INTERVAL_MS, MIN_INTERVAL_MS } from '../../src/vocabulary/intervals.js';

export interface AgentConfig {
  disabled: boolean;
  intervalMs: number;
  /** SRVLENS_COLLECTOR_URL: a srvlens collector, always exported to (over HTTP). */
  collectorUrl: string | undefined;
  /** SRVLENS_SERVER_NAME; null: OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES name the service, else the process title. */
  serverName: string | null;
  model: string;
  role: string;
  exportQueue: number;
  exemplars: boolean;
  /** Time outgoing node:http and fetch calls as downstream (agents/node/outgoing-calls.ts). */
  outgoingCalls: boolean;
  /** Export over OTLP (false only when OTEL_METRICS_EXPORTER leaves otlp out and no srvlens collector is named). */
  otlp: boolean;
  /** OTEL_METRICS_EXPORTER names console: each export is also printed (ConsoleMetricExporter). */
  console: boolean;
  /** The OTLP protocol (OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL). */
  protocol: OtlpProtocol;
  /**
   * The export timeout to give the exporter, or null where OTEL_EXPORTER_OTLP_[METRICS_]TIMEOUT sets one (the
   * exporter reads it itself).
   */
  exportTimeoutMs: number | null;
  /** How long the exporter tries an export before giving up: exportTimeoutMs, or what the environment set. */
  exportGivesUpMs: number;
  /** The Prometheus endpoint's address, or null when it is off. */
  prometheus: { host: string; port: number } | null;
  /** SRVLENS_TOKEN: the bearer sent with exports and asked of scrapes; null when unset. */
  token: string | null;
}

export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';
const PROTOCOLS: readonly OtlpProtocol[] = ['http/protobuf', 'http/json', 'grpc'];

/**
 * The OTLP protocol: the specification's default, http/protobuf, unless named. To a srvlens collector (SRVLENS_COLLECTOR_URL,
 * HTTP only) http/json unless an HTTP protocol is named: what it has always been sent, and the collector reads both.
 */
function protocolOf(env: NodeJS.ProcessEnv): OtlpProtocol {
  const named = (env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || '').trim() as OtlpProtocol;
  if (env.SRVLENS_COLLECTOR_URL) return named === 'http/protobuf' ? named : 'http/json';
  return PROTOCOLS.includes(named) ? named : 'http/protobuf';
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
  const intervalMs = int(env.SRVLENS_INTERVAL_MS, DEFAULT_INTERVAL_MS, MIN_INTERVAL_MS, MAX_INTERVAL_MS);
  // As the SDK reads it: a list, otlp when empty, nothing at all when it names none.
  const named = (env.OTEL_METRICS_EXPORTER ?? '').split(',').map((e) => e.trim()).filter(Boolean);
  const exporters = named.includes('none') ? [] : named.length ? named : ['otlp'];
  // Set in the environment, the exporter reads the timeout itself (ms, as the spec says).
  const envTimeout = env.OTEL_EXPORTER_OTLP_METRICS_TIMEOUT || env.OTEL_EXPORTER_OTLP_TIMEOUT;
  const defaultTimeout = Math.max(10_000, intervalMs * 2);
  return {
    disabled: env.SRVLENS_AGENT_DISABLED === '1',
    intervalMs,
    collectorUrl: env.SRVLENS_COLLECTOR_URL || undefined,
    serverName: env.SRVLENS_SERVER_NAME || null,
    model: env.SRVLENS_MODEL || 'unknown',
    role: env.SRVLENS_ROLE || 'server',
    exportQueue: int(env.SRVLENS_EXPORT_QUEUE, 60, 1, 10_000),
    exemplars: env.SRVLENS_EXEMPLARS === '1',
    outgoingCalls: env.SRVLENS_OUTGOING_CALLS !== '0',
    otlp: Boolean(env.SRVLENS_COLLECTOR_URL) || exporters.includes('otlp'),
    console: exporters.includes('console'),
    protocol: protocolOf(env),
    // OpenTelemetry's default, 10 s, by default: one export is in flight at a time, so a slow one piles nothing up (the intervals
    // wait in the queue), while a shorter timeout failed exports a starved host would have finished, and their retries
    // with them (2 intervals was too short beside a server forking a process a request: test/e2e/fork-cpu.test.ts).
    exportTimeoutMs: envTimeout ? null : defaultTimeout,
    exportGivesUpMs: Number(envTimeout) || defaultTimeout,
    prometheus: env.SRVLENS_PROMETHEUS_PORT
      ? prometheusAddress(env.SRVLENS_PROMETHEUS_PORT, env.SRVLENS_PROMETHEUS_HOST)
      : exporters.includes('prometheus')
        ? prometheusAddress(env.OTEL_EXPORTER_PROMETHEUS_PORT || '9464', env.OTEL_EXPORTER_PROMETHEUS_HOST)
        : null,
    // Read here, not through vocabulary/exposure.ts: the preload reads this file in every thread, and the check's
    // crypto and address rules are needed only in the agent thread.
    token: env.SRVLENS_TOKEN || null,
  };
}
