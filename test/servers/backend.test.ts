import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { monoMs } from '../../src/vocabulary/clock.js';
import type { BackendInterval } from '../../src/vocabulary/frames.js';
import { connectBackend, type BackendClient } from '../../src/servers/backend/backend-client.js';
import { BackendMeter } from '../../src/servers/backend/backend-meter.js';
import { type BackendOptions, type RunningBackend, startBackend } from '../../src/servers/backend/backend.js';
import { BackendClosedError, ServerConfigError } from '../../src/servers/errors.js';
import { type LatencySpec, makeSampler, parseLatencyFlag } from '../../src/servers/backend/latency.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function backendWithClient(opts: BackendOptions): Promise<{ backend: RunningBackend; client: BackendClient }> {
  const backend = await startBackend(opts);
  cleanups.push(() => backend.close());
  const client = await connectBackend({ host: '127.0.0.1', port: backend.port });
  cleanups.push(() => client.close());
  return { backend, client };
}

async function timed(p: Promise<void>, from: number): Promise<number> {
  await p;
  return monoMs() - from;
}

describe('backend service', () => {
  it('honours a fixed latency', async () => {
    const { client } = await backendWithClient({ latency: { dist: 'fixed', ms: 50 }, limit: 8 });
    for (let i = 0; i < 5; i++) {
      const ms = await timed(client.call(10), monoMs());
      expect(ms).toBeGreaterThanOrEqual(49);
      expect(ms).toBeLessThan(1000);
    }
  });

  it('counts how late its timers ran beyond the drawn service time: a loop blocked for 60 ms makes a 10 ms call ~55 ms late', async () => {
    const intervals: BackendInterval[] = [];
    let emitted = -1;
    const onInterval = (index: number, d: BackendInterval) => {
      intervals.push(d);
      emitted = index;
    };
    const { client } = await backendWithClient({ latency: { dist: 'fixed', ms: 10 }, limit: 8, intervalMs: 100, onInterval });
    await client.call(10); // warm
    const done = client.call(10);
    await new Promise((r) => setTimeout(r, 5)); // the backend has read the call and started its 10 ms timer
    const until = monoMs() + 60;
    while (monoMs() < until) {
      // the backend's process busy: its timer cannot run
    }
    await done;
    const lastIndex = Math.floor(monoMs() / 100);
    while (emitted < lastIndex) await new Promise((r) => setTimeout(r, 20));
    const late = intervals.reduce((s, d) => s + (d.sum_late_ms ?? 0), 0);
    expect(intervals.reduce((s, d) => s + d.completed, 0)).toBe(2);
    expect(late).toBeGreaterThan(45);
    expect(late).toBeLessThan(80);
  });

  it('queues calls beyond the limit and reports the queue per interval', async () => {
    const intervals: [number, BackendInterval][] = [];
    const { client } = await backendWithClient({
      latency: { dist: 'fixed', ms: 200 },
      limit: 2,
      intervalMs: 100,
      onInterval: (index, data) => intervals.push([index, data]),
    });
    const t0 = monoMs();
    const times = (await Promise.all([1, 2, 3, 4].map(() => timed(client.call(16), t0)))).sort((a, b) => a - b);
    expect(times[1]).toBeLessThan(390); // two served at once...
    expect(times[2]).toBeGreaterThanOrEqual(395); // ...two waited a full service time for a slot

    // Wait until the interval holding the last completion has been emitted.
    const lastIndex = Math.floor(monoMs() / 100);
    while (intervals.length === 0 || intervals[intervals.length - 1][0] < lastIndex) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const data = intervals.map(([, d]) => d);
    const sum = (f: (d: BackendInterval) => number) => data.reduce((s, d) => s + f(d), 0);
    expect(Math.max(...data.map((d) => d.queue_max))).toBe(2);
    expect(Math.max(...data.map((d) => d.in_service_max))).toBe(2);
    expect(data.every((d) => d.limit === 2)).toBe(true);
    expect(sum((d) => d.calls)).toBe(4);
    expect(sum((d) => d.completed)).toBe(4);
    expect(sum((d) => d.sum_service_ms)).toBe(4 * 200);
    // Two calls waited ~200 ms each: as a sum of waits and as the time-weighted queue length over the intervals.
    expect(sum((d) => d.sum_queue_ms)).toBeGreaterThanOrEqual(2 * 195);
    expect(sum((d) => d.sum_queue_ms)).toBeLessThan(2 * 400);
    expect(sum((d) => d.queue_mean * 100)).toBeGreaterThanOrEqual(390);
    expect(sum((d) => d.queue_mean * 100)).toBeLessThan(800);
    // Every interval is emitted, quiet ones included, in order.
    intervals.forEach(([index], i) => i > 0 && expect(index).toBe(intervals[i - 1][0] + 1));
  });

  it('answers pipelined calls on one connection in completion order', async () => {
    const latency: LatencySpec = { dist: 'uniform', min_ms: 10, max_ms: 400 };
    const seed = 7;
    const backend = await startBackend({ latency, limit: 16, seed });
    cleanups.push(() => backend.close());
    // The backend draws the same service times as this sampler, so the completion order is known in advance.
    const sample = makeSampler(latency, seed);
    const drawn = Array.from({ length: 6 }, (_, id) => ({ id, ms: sample() })).sort((a, b) => a.ms - b.ms);
    drawn.forEach((d, i) => i > 0 && expect(d.ms - drawn[i - 1].ms).toBeGreaterThan(15)); // precondition of the seed
    const expectedOrder = drawn.map((d) => String(d.id));
    expect(expectedOrder).not.toEqual(['0', '1', '2', '3', '4', '5']);

    const socket = net.connect(backend.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.setEncoding('latin1');
    let text = '';
    socket.on('data', (c: string) => (text += c));
    socket.write([0, 1, 2, 3, 4, 5].map((id) => `${id} ${id * 10}\n`).join(''));
    while (text.split('\n').length < 7) await new Promise((r) => setTimeout(r, 20));
    socket.destroy();
    const replies = text.trimEnd().split('\n').map((line) => line.split(' '));
    expect(replies.map(([id]) => id)).toEqual(expectedOrder);
    for (const [id, payload] of replies) expect(payload).toBe('x'.repeat(Number(id) * 10));
  });

  it('rejects a malformed request line with ERR and closes the connection', async () => {
    const backend = await startBackend({ latency: { dist: 'fixed', ms: 1 }, limit: 1 });
    cleanups.push(() => backend.close());
    const socket = net.connect(backend.port, '127.0.0.1');
    socket.setEncoding('latin1');
    let text = '';
    socket.on('data', (c: string) => (text += c));
    socket.write('hello\n');
    await once(socket, 'close');
    expect(text).toMatch(/^ERR expected '<id> <response_bytes>'/);
  });

  it('refuses a limit below 1', async () => {
    await expect(startBackend({ latency: { dist: 'fixed', ms: 1 }, limit: 0 })).rejects.toThrow(ServerConfigError);
  });
});

describe('backend client', () => {
  it('rejects pending calls when the backend closes, and later calls too', async () => {
    const backend = await startBackend({ latency: { dist: 'fixed', ms: 5000 }, limit: 4 });
    const client = await connectBackend({ host: '127.0.0.1', port: backend.port, connections: 1 });
    cleanups.push(() => client.close());
    const outcomes = [client.call(10), client.call(10)].map((p) => p.then(() => null, (err: unknown) => err));
    await new Promise((r) => setTimeout(r, 50));
    await backend.close();
    for (const err of await Promise.all(outcomes)) {
      expect(err).toBeInstanceOf(BackendClosedError);
      expect((err as Error).message).toMatch(/closed the connection with 2 call\(s\) pending/);
    }
    await expect(client.call(10)).rejects.toThrow(BackendClosedError);
  });

  it('names the address when nothing listens there', async () => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    server.close();
    await once(server, 'close');
    await expect(connectBackend({ host: '127.0.0.1', port })).rejects.toThrow(
      new RegExp(`cannot connect to backend 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`),
    );
  });
});

describe('backend meter', () => {
  it('weights the queue by time and carries the queue across interval boundaries', () => {
    const out: [number, BackendInterval][] = [];
    const meter = new BackendMeter(100, 2, 1000, (i, d) => out.push([i, d]));
    meter.arrived(1010);
    meter.queueLength(1050, 2); // two wait from 1050...
    meter.queueLength(1150, 0); // ...to 1150, across the boundary at 1100
    meter.advance(1300);
    expect(out.map(([i]) => i)).toEqual([10, 11, 12]);
    expect(out.map(([, d]) => d.queue_mean)).toEqual([1, 1, 0]);
    expect(out.map(([, d]) => d.queue_max)).toEqual([2, 2, 0]);
    expect(out.map(([, d]) => d.calls)).toEqual([1, 0, 0]);
  });
});

describe('latency distributions', () => {
  const N = 200_000;
  const mean = (spec: LatencySpec, seed = 42) => {
    const s = makeSampler(spec, seed);
    let sum = 0;
    for (let i = 0; i < N; i++) sum += s();
    return sum / N;
  };

  it('have sample means near their parameters', () => {
    expect(mean({ dist: 'fixed', ms: 5 })).toBe(5);
    expect(mean({ dist: 'uniform', min_ms: 2, max_ms: 8 })).toBeCloseTo(5, 1);
    expect(Math.abs(mean({ dist: 'exponential', mean_ms: 5 }) / 5 - 1)).toBeLessThan(0.02);
    // A lognormal's mean is median * exp(sigma^2 / 2).
    const expected = 5 * Math.exp(0.5 ** 2 / 2);
    expect(Math.abs(mean({ dist: 'lognormal', median_ms: 5, sigma: 0.5 }) / expected - 1)).toBeLessThan(0.02);
  });

  it('has the lognormal median at its parameter', () => {
    const s = makeSampler({ dist: 'lognormal', median_ms: 5, sigma: 1 }, 3);
    const xs = Array.from({ length: 50_001 }, s).sort((a, b) => a - b);
    expect(Math.abs(xs[25_000] / 5 - 1)).toBeLessThan(0.03);
  });

  it('repeats with the same seed and differs with another', () => {
    const spec: LatencySpec = { dist: 'exponential', mean_ms: 5 };
    const draw = (seed: number) => Array.from({ length: 5 }, makeSampler(spec, seed));
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
  });

  it('parses the --latency flag', () => {
    expect(parseLatencyFlag('fixed:5')).toEqual({ dist: 'fixed', ms: 5 });
    expect(parseLatencyFlag('uniform:2:8')).toEqual({ dist: 'uniform', min_ms: 2, max_ms: 8 });
    expect(parseLatencyFlag('exponential:5')).toEqual({ dist: 'exponential', mean_ms: 5 });
    expect(parseLatencyFlag('lognormal:5:0.5')).toEqual({ dist: 'lognormal', median_ms: 5, sigma: 0.5 });
  });

  it('rejects bad --latency values with the accepted forms', () => {
    for (const bad of ['', 'fixed', 'fixed:', 'fixed:abc', 'fixed:5:6', 'gauss:5', 'uniform:8:2', 'fixed:-1']) {
      expect(() => parseLatencyFlag(bad)).toThrow(ServerConfigError);
    }
    expect(() => parseLatencyFlag('gauss:5')).toThrow(/--latency 'gauss:5': unknown distribution 'gauss'; expected fixed:MS/);
    expect(() => parseLatencyFlag('uniform:8:2')).toThrow(/min \(8\) is above max \(2\)/);
  });
});
