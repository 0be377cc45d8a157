/**
 * thread-per-connection under `srvlens run`: every request a thread served reaches the agent, however short the
 * thread's life. The client's count is the ground truth: in a phase where the client saw no error and the generator
 * kept up, the agents must have counted the same requests (the drain's late answers are the last phase's).
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Report } from '../../src/report/json-report.js';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '../../dist/src/cli.js');

describe('thread-per-connection, a thread per request', () => {
  it('counts every request at 10, 25 and 50 req/s', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'srvlens-tpc-')), 'tpc.srvlens.gz');
    const r = await run(process.execPath, [CLI, 'run', join(import.meta.dirname, 'fixtures/short-lived-threads.yaml'), '--out', out, '--json'], { timeout: 60_000 });
    const phases = (JSON.parse(r.stdout) as Report).runs[0].phases;
    expect(phases.map((p) => p.name)).toEqual(['r10', 'r25', 'r50']);
    let compared = 0;
    for (const p of phases) {
      expect(p.requests, p.name).toBeGreaterThan(0);
      if (p.errors! > 0 || p.generator_saturated) {
        // Requests the client gave up on were still served: the agents count at least what the client got.
        expect(p.server_requests!, p.name).toBeGreaterThanOrEqual(p.requests! * 0.98);
        continue;
      }
      compared++;
      expect(Math.abs(p.server_requests! - p.requests!), `${p.name}: client ${p.requests}, agents ${p.server_requests}`).toBeLessThanOrEqual(Math.ceil(p.requests! * 0.02));
    }
    // 10 and 25 req/s are well within what a thread per request sustains here (~40 ms of isolate start each).
    expect(compared).toBeGreaterThanOrEqual(1);
  }, 90_000);
});
