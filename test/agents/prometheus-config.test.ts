import { describe, expect, it } from 'vitest';
import { readConfig } from '../../agents/node/config.js';

describe('the Prometheus endpoint\'s configuration', () => {
  it('is off unless SRVLENS_PROMETHEUS_PORT names a port, and listens on loopback unless told otherwise', () => {
    expect(readConfig({}).prometheus).toBeNull();
    expect(readConfig({ SRVLENS_PROMETHEUS_PORT: '9464' }).prometheus).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(readConfig({ SRVLENS_PROMETHEUS_PORT: '9464', SRVLENS_PROMETHEUS_HOST: '::1' }).prometheus).toEqual({ host: '::1', port: 9464 });
    for (const bad of ['0', '70000', 'prom', '94.64', '']) expect(readConfig({ SRVLENS_PROMETHEUS_PORT: bad }).prometheus).toBeNull();
  });
});
