/**
 * `srvlens attach` as a user runs it: the built CLI (`npm test` builds first; by hand: `npx tsc -p .`) against a real
 * Python server under a few concurrent clients.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AttachJson } from '../../../agents/proc/attach-report.js';
import { waitUntil } from '../../helpers/processes.js';
import { attachCli as attach, lineClients, startPython, stopAll } from './real-servers.js';

afterEach(stopAll);

describe('srvlens attach', () => {
  it('prints the JSON the issue specifies, and writes the same to --out', async () => {
    const srv = await startPython('iterative', 0.03);
    const load = lineClients(srv.port, 4);
    await waitUntil(() => load.completed() >= 4, 10_000);
    const out = join(mkdtempSync(join(tmpdir(), 'srvlens-attach-')), 'attach.json');
    const r = await attach(['--pid', String(srv.pid), '--duration', '1.5', '--interval', '100', '--json', '--out', out]);
    await load.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(r.stdout);
    const doc = JSON.parse(r.stdout) as AttachJson;
    expect(doc).toMatchObject({ pid: srv.pid, model: 'iterative', samples: 16 });
    expect(doc.evidence.length).toBeGreaterThan(1);
    expect(doc.contexts).toHaveLength(1);
    expect(Object.keys(doc.contexts[0]).slice(0, 8)).toEqual(['pid', 'tid', 'name', 'state', 'cpu_ms', 'voluntary', 'involuntary', 'runqueue_wait_ms']);
    expect(doc.contexts[0]).toMatchObject({ pid: srv.pid, tid: srv.pid, name: 'python3' });
    expect(doc.contexts[0].voluntary).toBeGreaterThan(0);
    expect(doc.accept_queue).toEqual({ listen: `127.0.0.1:${srv.port}`, length: expect.any(Number), max: 5, peak: expect.any(Number) });
    expect(doc.accept_queue!.peak).toBeGreaterThanOrEqual(1);
    // progress goes to stderr, never into the JSON
    expect(r.stderr).toMatch(/^srvlens attach: PID \d+: 1\/1.5 s, 1 processes, 1 threads$/m);
  });

  it('prints the model, its evidence and the tables for a reader', async () => {
    const srv = await startPython('iterative', 0);
    const r = await attach(['--pid', String(srv.pid), '--duration', '0.3', '--interval', '100', '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`PID ${srv.pid} (python3): 0.3 s, 4 samples every 100 ms`);
    expect(r.stdout).toMatch(/^model: unknown$/m);
    expect(r.stdout).toContain(`accept queue of 127.0.0.1:${srv.port}: 0 waiting (peak 0, backlog 5)`);
    expect(r.stdout).toMatch(/^ +PID +TID +NAME +ST +CPU ms/m);
  });

  it('exits 2 with a clear message for a PID that does not exist', async () => {
    const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
    const r = await attach(['--pid', String(pidMax), '--duration', '0.2']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`srvlens: --pid ${pidMax}: no such process (is it running, and in this PID namespace? a container's PIDs are not the host's)\n`);
  });

  it('exits 2 for an interval too short to sample honestly', async () => {
    const r = await attach(['--pid', String(process.pid), '--interval', '5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("option '--interval <ms>' argument '5' is invalid. expected at least 10 ms, got '5'");
  });
});
