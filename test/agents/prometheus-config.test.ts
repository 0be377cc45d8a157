import { describe, expect, it } from 'vitest';
import { readConfig } from '../../agents/node/config.js';

describe('the Prometheus endpoint\'s configuration', () => {
  it('is off unless SRVLENS_PROMETHEUS_PORT names a port, and listens on loopback unless told otherwise', () => {
    expect(readConfig({}).prometheus).toBeNull();
    expect(readConfig({ SRVLENS_PROMETHEUS_PORT: '9464' }).prometheus).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(readConfig({ SRVLENS_PROMETHEUS_PORT: '9464', SRVLENS_PROMETHEUS_HOST: '::1' }).prometheus).toEqual({ host: '::1', port: 9464 });
    for (const bad of ['0', '70000', 'prom', '94.64', '']) expect(readConfig({ SRVLENS_PROMETHEUS_PORT: bad }).prometheus).toBeNull();
  });

  it('is on where OTEL_METRICS_EXPORTER names prometheus, at OpenTelemetry\'s address variables (9464 by default)', () => {
    expect(readConfig({ OTEL_METRICS_EXPORTER: 'prometheus' })).toMatchObject({ prometheus: { host: '127.0.0.1', port: 9464 }, otlp: false });
    expect(readConfig({ OTEL_METRICS_EXPORTER: 'otlp, prometheus', OTEL_EXPORTER_PROMETHEUS_PORT: '9500' })).toMatchObject({ prometheus: { port: 9500 }, otlp: true });
    expect(readConfig({ OTEL_METRICS_EXPORTER: 'prometheus', SRVLENS_PROMETHEUS_PORT: '9600' }).prometheus).toEqual({ host: '127.0.0.1', port: 9600 });
  });
});

describe('the OTLP export\'s configuration', () => {
  it('follows OTEL_METRICS_EXPORTER and the OTLP protocol variables; a srvlens collector is always sent to, over HTTP', () => {
    expect(readConfig({})).toMatchObject({ otlp: true, console: false, protocol: 'http/protobuf' });
    expect(readConfig({ OTEL_METRICS_EXPORTER: 'none' })).toMatchObject({ otlp: false, console: false });
    expect(readConfig({ OTEL_METRICS_EXPORTER: 'console' })).toMatchObject({ otlp: false, console: true });
    expect(readConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).protocol).toBe('http/json');
    expect(readConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc' }).protocol).toBe('grpc');
    const srvlens = { SRVLENS_COLLECTOR_URL: 'http://127.0.0.1:4318/v1/metrics', OTEL_METRICS_EXPORTER: 'none' };
    expect(readConfig(srvlens)).toMatchObject({ otlp: true, protocol: 'http/json' });
    expect(readConfig({ ...srvlens, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).protocol).toBe('http/json');
    expect(readConfig({ ...srvlens, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }).protocol).toBe('http/protobuf');
    // The exporter reads OTEL_EXPORTER_OTLP_TIMEOUT itself; without it the agent gives up within two intervals.
    expect(readConfig({ OTEL_EXPORTER_OTLP_TIMEOUT: '500' }).exportTimeoutMs).toBeNull();
    expect(readConfig({ SRVLENS_INTERVAL_MS: '1000' }).exportTimeoutMs).toBe(10_000);
    expect(readConfig({ SRVLENS_INTERVAL_MS: '10000' }).exportTimeoutMs).toBe(20_000);
  });
});
