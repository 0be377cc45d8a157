import http from 'node:http';
import net from 'node:net';
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { monoUs } from '../../src/vocabulary/clock.js';
import { SEND_TIME_HEADER } from '../../src/vocabulary/parts.js';
import type { GeneratorConfig } from '../../src/load/config.js';
import type { FromGenerator } from '../../src/load/messages.js';

// The real entry point, as the scenario runner forks it: built JavaScript, not the TypeScript source.
const MAIN = fileURLToPath(new URL('../../dist/src/load/generator-process.js', import.meta.url));

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build first (npx tsc -p . ; npm test does it)`);
});

async function server(onRequest: (req: http.IncomingMessage) => void): Promise<number> {
  const s = http.createServer((req, res) => {
    onRequest(req);
    res.end('ok');
  });
  cleanup.push(() => {
    s.closeAllConnections();
    s.close();
  });
  await once(s.listen(0, '127.0.0.1'), 'listening');
  return (s.address() as net.AddressInfo).port;
}

function start(): { child: ChildProcess; messages: FromGenerator[]; exited: Promise<number | null> } {
  const child = fork(MAIN, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  cleanup.push(() => child.kill());
  const messages: FromGenerator[] = [];
  child.on('message', (m) => messages.push(m as FromGenerator));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, messages, exited };
}

function config(port: number, duration_s: number): GeneratorConfig {
  return {
    target: { host: '127.0.0.1', port },
    request: { method: 'GET', path: '/' },
    connections: 4,
    timeout_ms: 1000,
    interval_ms: 250,
    phases: [{ name: 'p', kind: 'constant', rate: 100, duration_s }],
  };
}

describe('generator-main (forked with IPC)', () => {
  it('runs a config from a start message, sends every interval and done, then exits 0', async () => {
    const leads: number[] = [];
    const port = await server((req) => leads.push((monoUs() - Number(req.headers[SEND_TIME_HEADER])) / 1000));
    const { child, messages, exited } = start();
    child.send({ type: 'start', config: config(port, 1) });
    expect(await exited).toBe(0);

    const intervals = messages.filter((m) => m.type === 'interval');
    const done = messages.at(-1);
    expect(done?.type).toBe('done');
    if (done?.type !== 'done') return;
    expect(done.summary).toMatchObject({ due: 100, completed: 100, errors: 0, intervals: intervals.length });
    intervals.forEach((m, i) => expect(m.index).toBe(done.summary.first_index! + i));
    expect(intervals.reduce((a, m) => a + m.data.completed, 0)).toBe(100);

    // Another process, the same clock: the send time precedes the server's receipt by a little.
    leads.sort((a, b) => a - b);
    expect(leads).toHaveLength(100);
    expect(leads[0]).toBeGreaterThan(-0.1);
    expect(leads[50]).toBeLessThan(10);
  });

  it('stops early on a stop message and still sends done', async () => {
    const port = await server(() => {});
    const { child, messages, exited } = start();
    child.send({ type: 'start', config: config(port, 60) });
    await new Promise<void>((resolve) => child.on('message', (m: FromGenerator) => m.type === 'interval' && resolve()));
    child.send({ type: 'stop' });
    expect(await exited).toBe(0);
    const done = messages.at(-1);
    expect(done?.type === 'done' && done.summary.aborted).toBe(true);
  });

  it('reports an invalid config as an error message and exits 1', async () => {
    const { child, messages, exited } = start();
    child.send({ type: 'start', config: { ...config(1, 1), connections: 0 } });
    expect(await exited).toBe(1);
    expect(messages).toEqual([{ type: 'error', message: expect.stringContaining('connections'), code: 'SRVLENS_LOAD_CONFIG', userMistake: true }]);
  });

  it('exits when its parent lets go of the channel', async () => {
    const port = await server(() => {});
    const { child, exited } = start();
    child.send({ type: 'start', config: config(port, 60) });
    await once(child, 'message');
    child.disconnect();
    expect(await exited).toBe(0);
  });
});
