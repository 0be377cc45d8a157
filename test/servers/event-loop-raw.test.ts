import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { monoMs } from '../../src/vocabulary/clock.js';
import { SEND_TIME_HEADER, STAGE } from '../../src/vocabulary/parts.js';
import { AGENT_HOOKS, type AgentHooks } from '../../src/vocabulary/stage-hook.js';
import { type RunningBackend, startBackend } from '../../src/servers/backend/backend.js';
import { startEventLoopRawServer } from '../../src/servers/models/event-loop-raw.js';
import type { RunningServer } from '../../src/servers/models/model-server.js';

interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Splits a byte stream of responses (each with Content-Length, as ours always have). */
function parseReplies(bytes: Buffer): RawReply[] {
  const out: RawReply[] = [];
  let at = 0;
  for (;;) {
    const headEnd = bytes.indexOf('\r\n\r\n', at);
    if (headEnd < 0) return out;
    const [statusLine, ...lines] = bytes.toString('latin1', at, headEnd).split('\r\n');
    const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    const length = Number(headers['content-length']);
    out.push({ status: Number(statusLine.split(' ')[1]), headers, body: bytes.subarray(headEnd + 4, headEnd + 4 + length) });
    at = headEnd + 4 + length;
  }
}

/** Writes `requests` (each one write) on one connection and reads until the server closes it or `count` replies came. */
async function converse(port: number, requests: string[], count = Infinity): Promise<{ replies: RawReply[]; closedByServer: boolean }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  let ended = false;
  const done = new Promise<void>((resolve) => {
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (parseReplies(Buffer.concat(chunks)).length >= count) resolve();
    });
    socket.on('end', () => {
      ended = true;
      resolve();
    });
    socket.on('error', () => resolve());
  });
  for (const r of requests) socket.write(r);
  await done;
  socket.destroy();
  return { replies: parseReplies(Buffer.concat(chunks)), closedByServer: ended };
}

const workload = { parse_us: 20, process_us: 50, transform_us: 20, backend_calls: 2, response_bytes: 3000 };
const get = (extra = '') => `GET / HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

describe('event-loop-raw server', () => {
  let backend: RunningBackend;
  let server: RunningServer;
  beforeAll(async () => {
    backend = await startBackend({ latency: { dist: 'fixed', ms: 2 }, limit: 64 });
    server = await startEventLoopRawServer({ workload, backend: { host: '127.0.0.1', port: backend.port } });
  });
  afterAll(async () => {
    await server?.close();
    await backend?.close();
  });

  it('serves node:http clients with keep-alive', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const ports: number[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
          http.get({ host: '127.0.0.1', port: server.port, agent }, resolve).on('error', reject),
        );
        ports.push(res.socket.localPort!); // read before the body: the socket goes back to the agent at its end
        const body: Buffer[] = [];
        for await (const c of res) body.push(c as Buffer);
        expect([res.statusCode, res.headers.connection, Buffer.concat(body).length]).toEqual([200, 'keep-alive', 3000]);
      }
      expect(new Set(ports).size).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it('answers pipelined requests in order, in one write or byte by byte, and closes after Connection: close', async () => {
    const text = get() + `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n` + get('Connection: close\r\n') + get();
    for (const writes of [[text], [...text]]) {
      const { replies, closedByServer } = await converse(server.port, writes);
      expect(replies.map((r) => [r.status, r.headers.connection, r.body.length])).toEqual([
        [200, 'keep-alive', 3000],
        [200, 'keep-alive', 3000],
        [200, 'close', 3000],
      ]);
      expect(closedByServer).toBe(true);
    }
  });

  it('answers a half-closed client before closing', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: server.port });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.end(get() + get());
    await once(socket, 'close');
    expect(parseReplies(Buffer.concat(chunks)).map((r) => r.status)).toEqual([200, 200]);
  });

  const refusals: [string, string, number][] = [
    ['a malformed request line', 'GARBAGE\r\n\r\n', 400],
    ['a body over 1 MiB', 'POST / HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n', 413],
    ['a head over 16 KiB', `GET / HTTP/1.1\r\nx-big: ${'a'.repeat(17000)}\r\n\r\n`, 431],
    ['an unknown transfer coding', 'POST / HTTP/1.1\r\nTransfer-Encoding: br\r\n\r\n', 501],
  ];
  for (const [what, bad, status] of refusals) {
    it(`answers ${what} with ${status} after the requests before it, then closes`, async () => {
      const { replies, closedByServer } = await converse(server.port, [get() + bad]);
      expect(replies.map((r) => [r.status, r.headers.connection])).toEqual([
        [200, 'keep-alive'],
        [status, 'close'],
      ]);
      expect(closedByServer).toBe(true);
    });
  }

  describe('with the agent hook installed', () => {
    const events: [string, object, number][] = [];
    const g = globalThis as Record<symbol, unknown>;
    beforeAll(() => {
      const hooks: AgentHooks = {
        begin: (handle, sendUs) => void events.push(['begin', handle, sendUs]),
        stage: (handle, stage) => void events.push(['stage', handle, stage]),
        end: (handle) => void events.push(['end', handle, 0]),
        context: () => undefined,
      };
      g[AGENT_HOOKS] = hooks;
    });
    afterEach(() => {
      delete g[AGENT_HOOKS];
    });

    it('begins, marks and ends pipelined requests one at a time, in order, with their send times', async () => {
      const t = (us: number) => `${SEND_TIME_HEADER}: ${us}\r\n`;
      await converse(server.port, [get(t(11)) + get(t(22)) + get(t(33) + 'Connection: close\r\n')]);
      const handles = new Set(events.map((e) => e[1]));
      expect(handles.size).toBe(1); // one connection, one handle
      const perRequest = [STAGE.parse, STAGE.process, STAGE.downstream, STAGE.transform, STAGE.send].map((s) => `stage:${s}`);
      expect(events.map(([kind, , v]) => (kind === 'end' ? 'end' : `${kind}:${v}`))).toEqual(
        [11, 22, 33].flatMap((us) => [`begin:${us}`, ...perRequest, 'end']),
      );
    });
  });
});

describe('event-loop-raw server against a slow backend', () => {
  let backend: RunningBackend;
  let server: RunningServer;
  beforeAll(async () => {
    backend = await startBackend({ latency: { dist: 'fixed', ms: 200 }, limit: 64 });
    server = await startEventLoopRawServer({
      workload: { ...workload, backend_calls: 1 },
      backend: { host: '127.0.0.1', port: backend.port },
    });
  });
  afterAll(async () => {
    await server?.close();
    await backend?.close();
  });

  it('overlaps the backend waits of fifty simultaneous clients', async () => {
    const t0 = monoMs();
    const results = await Promise.all(Array.from({ length: 50 }, () => converse(server.port, [get()], 1)));
    const elapsed = monoMs() - t0;
    expect(results.every((r) => r.replies[0]?.status === 200)).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(199);
    // One after another this would take 50 x 200 ms; overlapped it takes about one backend call.
    expect(elapsed).toBeLessThan(50 * 200 * 0.2);
  });

  it('answers 502 naming the backend when the backend is gone', async () => {
    await backend.close();
    const { replies } = await converse(server.port, [get()], 1);
    expect(replies[0].status).toBe(502);
    expect(replies[0].body.toString()).toMatch(/backend 127\.0\.0\.1:\d+ closed the connection/);
  });
});
