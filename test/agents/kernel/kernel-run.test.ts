/**
 * `srvlens run` with the kernel tracer (root): a server with no agent in it gets its requests and their parts from
 * the kernel, held against its own log and the client's count; a reference server with the agent gets the kernel's
 * accept queue beside the agent's, and the two agree (the report's accept_queue_kernel check). `srvlens capacity`
 * traces a server with no agent in it the same way, and without the tracer its probes have no server side. Real processes, real
 * sockets, a real bpftrace; needs root, bpftrace and BTF (scripts/test-deps.sh).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { PhaseStats } from '../../../src/analysis/phase-stats.js';
import type { Report } from '../../../src/report/json-report.js';
import type { CapacityResult } from '../../../src/scenario/capacity/run-capacity.js';
import { freePort } from '../../helpers/listen.js';
import { TIMED_HTTP } from '../proc/real-servers.js';

const CLI = join(import.meta.dirname, '../../../dist/src/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'srvlens-kernel-run-'));

async function runJson(scenario: object, name: string): Promise<{ report: Report; stderr: string; text: string }> {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(scenario));
  const out = join(dir, `${name}.srvlens.gz`);
  const env = { ...process.env, SRVLENS_KERNEL: 'on' };
  const r = await promisify(execFile)(process.execPath, [CLI, 'run', file, '--out', out, '--json'], { env, timeout: 90_000, maxBuffer: 1 << 26 });
  const text = (await promisify(execFile)(process.execPath, [CLI, 'report', out], { env })).stdout;
  return { report: JSON.parse(r.stdout) as Report, stderr: r.stderr, text };
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

describe('srvlens run with the kernel tracer', () => {
  it('splits the requests of a server with no agent in it (Python, a thread a connection) from the kernel', async () => {
    const log = join(dir, 'python.log');
    const port = await freePort();
    // 0.5 ms of CPU, then 5 ms asleep, a request; a connection a request (each then waits in the accept queue, and
    // a thread is made for it), 100 req/s.
    const { report, stderr, text } = await runJson(
      {
        name: 'kernel-external',
        interval_ms: 500,
        servers: [{ name: 'python', command: ['python3', TIMED_HTTP, log, 'threading', '0.5', '5', '{port}'], port, ready: { tcp: true, timeout_s: 10 } }],
        load: { connection: 'new', connections: 8, phases: [{ name: 'steady', rate: 100, duration_s: 4 }] },
      },
      'external',
    );
    expect(stderr).toMatch(/kernel tracer attached to python/);
    const p = report.runs[0].phases[0] as PhaseStats;
    const say = JSON.stringify({ parts: p.parts_ms, requests: p.requests, server: p.server_requests, checks: p.checks, generator: p.generator_saturation });
    expect(p.server_measured_by, say).toBe('kernel');
    // The kernel counted the requests the client did (the count check: within 2 %, one answer across a boundary).
    expect(p.checks.find((c) => c.id === 'requests_counted')?.ok, say).toBe(true);
    expect(p.server_requests, say).toBeGreaterThan(350);
    // Its server time is the server's own (its log covers the run, a request a line).
    const own = readFileSync(log, 'utf8').trim().split('\n').map(Number);
    expect(Math.abs(p.parts_ms.process! - mean(own)), `${say}; the server's own ${mean(own)} ms`).toBeLessThanOrEqual(0.05 * mean(own));
    // Each request is served by a thread of its own: split into on CPU, run queue and blocked, which add up.
    expect(p.checks.find((c) => c.id === 'thread_split')?.ok, say).toBe(true);
    for (const part of ['accept_queue', 'server_queue', 'send'] as const) expect(p.parts_ms[part], `${part}: ${say}`).not.toBeNull();
    expect(p.parts_ms.parse, say).toBeNull();
    expect(text).toMatch(/its parts are from the kernel tracer/);
  }, 120_000);

  it("times a reference thread pool's accept queue as its agent does, within 5 %", async () => {
    // 2 threads, 8 users each opening a connection a request: six wait in the kernel's accept queue at any time.
    const { report, stderr } = await runJson(
      {
        name: 'kernel-pool',
        interval_ms: 500,
        servers: [{ name: 'pool', model: 'thread-pool', size: { threads: 2 } }],
        load: { connection: 'new', phases: [{ name: 'queued', kind: 'closed', users: 8, duration_s: 4 }] },
      },
      'pool',
    );
    expect(stderr).toMatch(/kernel tracer attached to pool/);
    const p = report.runs[0].phases[0] as PhaseStats;
    const check = p.checks.find((c) => c.id === 'accept_queue_kernel');
    console.log(`thread-pool: accept_queue ${p.parts_ms.accept_queue} ms; ${check?.detail}`);
    expect(p.server_measured_by).toBe('agents');
    expect(p.parts_ms.accept_queue!, JSON.stringify(p.parts_ms)).toBeGreaterThan(5);
    expect(check?.ok, check?.detail).toBe(true);
    const [, agentMs, kernelMs] = /agents' ([\d.]+) ms a connection against the kernel's ([\d.]+) ms/.exec(check!.detail)!.map(Number);
    expect(Math.abs(agentMs - kernelMs), check!.detail).toBeLessThanOrEqual(0.05 * kernelMs);
  }, 120_000);

  it('capacity: traces a server with no agent in it, so its probes have its server side; --no-kernel has none', async () => {
    const port = await freePort();
    // An iterative server asleep 10 ms a request: about 90 req/s at most, one request at a time.
    const scenario = {
      name: 'kernel-capacity',
      interval_ms: 500,
      servers: [{ name: 'python', command: ['python3', TIMED_HTTP, join(dir, 'capacity.log'), 'iterative', '0', '10', '{port}'], port, ready: { tcp: true, timeout_s: 10 } }],
      load: { connection: 'new', connections: 16, timeout_ms: 5000, phases: [{ name: 'x', rate: 10, duration_s: 1 }] },
      slo: 'p99<100ms',
      capacity: { start_rps: 40, probe_s: 2, confirm_s: 2, warmup_s: 0.5 },
    };
    const file = join(dir, 'capacity.yaml');
    writeFileSync(file, stringify(scenario));
    const env = { ...process.env, SRVLENS_KERNEL: 'on' };
    const search = async (...flags: string[]) => {
      const r = await promisify(execFile)(process.execPath, [CLI, 'capacity', file, '--json', '--max-seconds', '30', ...flags], { env, timeout: 90_000, maxBuffer: 1 << 26 });
      return { result: (JSON.parse(r.stdout) as CapacityResult).servers[0], stderr: r.stderr };
    };
    const traced = await search();
    expect(traced.stderr).toMatch(/python \(external\): searching, .*its requests' parts from the kernel tracer/);
    // At the knee a request's time is mostly the server's 10 ms asleep: process, from the kernel.
    expect(traced.result.summary?.dominant_part_at_knee, JSON.stringify(traced.result.summary)).toBe('process');
    const own = await search('--no-kernel');
    expect(own.stderr).not.toMatch(/kernel tracer/);
    expect(own.result.summary?.dominant_part_at_knee, JSON.stringify(own.result.summary)).not.toBe('process');
  }, 120_000);
});
