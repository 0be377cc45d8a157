import http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { monoMs } from '../../src/vocabulary/clock.js';
import { STAGE } from '../../src/vocabulary/parts.js';
import { AGENT_HOOKS, type AgentHooks } from '../../src/vocabulary/stage-hook.js';
import { type RunningBackend, startBackend } from '../../src/servers/backend/backend.js';
import { startEventLoopServer } from '../../src/servers/models/event-loop.js';
import type { RunningServer } from '../../src/servers/models/model-server.js';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  localPort: number;
}

function request(port: number, opts: { agent?: http.Agent; method?: string; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/', method: opts.method ?? 'GET', agent: opts.agent });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), localPort: req.socket!.localPort! }),
      );
    });
    req.end(opts.body);
  });
}

const workload = { parse_us: 20, process_us: 50, transform_us: 20, backend_calls: 2, response_bytes: 3000 };

describe('event-loop server', () => {
  let backend: RunningBackend;
  let server: RunningServer;
  beforeAll(async () => {
    backend = await startBackend({ latency: { dist: 'fixed', ms: 2 }, limit: 64 });
    server = await startEventLoopServer({ workload, backend: { host: '127.0.0.1', port: backend.port } });
  });
  afterAll(async () => {
    await server?.close();
    await backend?.close();
  });

  it('answers GET with response_bytes bytes and status 200', async () => {
    const reply = await request(server.port);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-length']).toBe('3000');
    expect(reply.body.length).toBe(3000);
  });

  it('reads a request body and answers', async () => {
    const reply = await request(server.port, { method: 'POST', body: 'y'.repeat(100_000) });
    expect(reply.status).toBe(200);
    expect(reply.body.length).toBe(3000);
  });

  it('keeps the connection alive across requests', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const replies = [];
      for (let i = 0; i < 5; i++) replies.push(await request(server.port, { agent }));
      expect(replies.every((r) => r.status === 200 && r.body.length === 3000)).toBe(true);
      expect(replies.every((r) => r.headers.connection === 'keep-alive')).toBe(true);
      expect(new Set(replies.map((r) => r.localPort)).size).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  describe('with the agent hook installed', () => {
    const marks = new Map<object, number[]>();
    const g = globalThis as Record<symbol, unknown>;
    beforeAll(() => {
      const hooks: AgentHooks = {
        begin: () => undefined,
        stage: (handle, stage) => void marks.set(handle, [...(marks.get(handle) ?? []), stage]),
        end: () => undefined,
        context: () => undefined,
      };
      g[AGENT_HOOKS] = hooks;
    });
    afterEach(() => {
      delete g[AGENT_HOOKS];
    });

    it('marks the stages of the workload in order', async () => {
      await request(server.port);
      expect([...marks.values()]).toEqual([[STAGE.parse, STAGE.process, STAGE.downstream, STAGE.transform, STAGE.send]]);
    });
  });
});

describe('event-loop server against a slow backend', () => {
  let backend: RunningBackend;
  let server: RunningServer;
  beforeAll(async () => {
    backend = await startBackend({ latency: { dist: 'fixed', ms: 200 }, limit: 64 });
    server = await startEventLoopServer({
      workload: { ...workload, backend_calls: 1 },
      backend: { host: '127.0.0.1', port: backend.port },
    });
  });
  afterAll(async () => {
    await server?.close();
    await backend?.close();
  });

  it('overlaps the backend waits of concurrent requests', async () => {
    const agent = new http.Agent({ maxSockets: 20 });
    try {
      const t0 = monoMs();
      const replies = await Promise.all(Array.from({ length: 20 }, () => request(server.port, { agent })));
      const elapsed = monoMs() - t0;
      expect(replies.every((r) => r.status === 200)).toBe(true);
      expect(elapsed).toBeGreaterThanOrEqual(199);
      // Served one after another this would take 20 x 200 ms; overlapped it takes about one backend call.
      expect(elapsed).toBeLessThan(20 * 200 * 0.25);
    } finally {
      agent.destroy();
    }
  });

  it('answers 502 naming the backend when the backend is gone', async () => {
    await backend.close();
    const reply = await request(server.port);
    expect(reply.status).toBe(502);
    expect(reply.body.toString()).toMatch(/backend 127\.0\.0\.1:\d+ closed the connection/);
  });
});
