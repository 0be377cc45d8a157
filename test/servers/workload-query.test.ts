import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend } from '../../src/servers/backend/backend.js';
import { getModel } from '../../src/servers/models/registry.js';
import type { RunningServer } from '../../src/servers/models/model-server.js';
import { DEFAULT_WORKLOAD } from '../../src/vocabulary/workload-params.js';
import { workloadForTarget } from '../../src/servers/workload/workload.js';

describe('a request mix entry\'s workload in the query string', () => {
  it('is laid over the server\'s field by field; unknown and invalid fields are ignored', () => {
    expect(workloadForTarget('/', DEFAULT_WORKLOAD)).toBe(DEFAULT_WORKLOAD);
    expect(workloadForTarget('/report?process_us=15000&backend_calls=2', DEFAULT_WORKLOAD)).toEqual({
      ...DEFAULT_WORKLOAD,
      process_us: 15000,
      backend_calls: 2,
    });
    expect(workloadForTarget('/?bogus=1&parse_us=-5&response_bytes=1.5&toString=3', DEFAULT_WORKLOAD)).toBe(DEFAULT_WORKLOAD);
  });

  describe('served by every kind of model', () => {
    let backend: Awaited<ReturnType<typeof startBackend>>;
    const servers: RunningServer[] = [];
    beforeAll(async () => {
      backend = await startBackend({ latency: { dist: 'fixed', ms: 1 }, limit: 64 });
    });
    afterAll(async () => {
      for (const s of servers) await s.close();
      await backend.close();
    });

    for (const model of ['event-loop', 'event-loop-raw', 'thread-pool']) {
      it(`${model}: response_bytes from the query sets the body's size`, async () => {
        const server = await getModel(model).start({ backend: { host: '127.0.0.1', port: backend.port }, size: model === 'thread-pool' ? { threads: 2 } : undefined });
        servers.push(server);
        const url = `http://127.0.0.1:${server.port}`;
        expect((await (await fetch(`${url}/?response_bytes=7`)).arrayBuffer()).byteLength).toBe(7);
        expect((await (await fetch(`${url}/`)).arrayBuffer()).byteLength).toBe(DEFAULT_WORKLOAD.response_bytes);
      });
    }
  });
});
