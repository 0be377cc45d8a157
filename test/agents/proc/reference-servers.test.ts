/**
 * The /proc agent on our own reference servers, run as `srvlens run` runs them: the agent preloaded in every process,
 * exporting to a collector (here a sink that answers every export). At light load its thread and V8's rival the
 * serving thread of each worker, which is where the model was once misnamed.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { detectModel } from '../../../src/analysis/detect-model.js';
import { sampleTree } from '../../../agents/proc/sample-tree.js';
import { waitUntil } from '../../helpers/processes.js';
import { keepAliveLoad, startReference, stopAll } from './real-servers.js';

describe('the /proc agent on the reference servers, under the in-process agent', () => {
  let exports = 0;
  const collector = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      exports++;
      res.end();
    });
  });
  let collectorUrl: string;
  beforeAll(async () => {
    await once(collector.listen(0, '127.0.0.1'), 'listening');
    collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/metrics`;
  });
  afterEach(stopAll);
  afterAll(() => new Promise<void>((resolve) => collector.close(() => resolve())));

  it('names event-loop-per-core with policy rr at light load: a few dozen requests a second over 8 connections', async () => {
    const srv = await startReference(['--model', 'event-loop-per-core', '--policy', 'rr', '--size', 'processes=2'], collectorUrl);
    // Each connection sends a request, then waits 250 ms: ~30 req/s, ~15 per worker once rr has spread them.
    const load = keepAliveLoad(srv.port, 8, 250);
    await waitUntil(() => load.completed() >= 16, 10_000);
    // Two windows in a row: a GC cycle in either worker's V8 threads used to be enough to say hybrid.
    const windows = [];
    for (let i = 0; i < 2; i++) windows.push(await sampleTree({ pid: srv.pid, durationMs: 4000, intervalMs: 100 }));
    const served = await load.stop();
    expect(exports, 'the agent in the server exported nothing: it did not run').toBeGreaterThan(0);
    expect(served).toBeGreaterThan(16);
    for (const w of windows) {
      const found = detectModel(w);
      expect(found.model, found.evidence.join('\n')).toBe('event-loop-per-core');
      expect(found.evidence).toContainEqual(expect.stringMatching(/^worker PID \d+ held up to \d+ connections at once/));
      const workers = w.processes.filter((p) => p.ppid === srv.pid && p.name.startsWith('loop-'));
      expect(workers).toHaveLength(2);
      // rr handed connections to both workers, and each ran its loop beside the agent's thread and V8's.
      for (const p of workers) {
        expect(p.inbound_max).toBeGreaterThanOrEqual(1);
        expect(w.contexts.filter((c) => c.pid === p.pid).length).toBeGreaterThan(2);
      }
    }
  });
});
