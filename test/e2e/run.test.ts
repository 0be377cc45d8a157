import { beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { newTag, taggedProcesses, waitUntil } from '../helpers/processes.js';
import type { Report } from '../../src/report/json-report.js';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '../../dist/src/cli.js');
const FIXTURE = join(import.meta.dirname, 'fixtures/known-costs.yaml');
const dir = mkdtempSync(join(tmpdir(), 'srvlens-e2e-'));

describe('srvlens run, end to end', () => {
  let report: Report;
  let stderr: string;
  const out = join(dir, 'known.srvlens.gz');

  const { tag, env } = newTag();

  beforeAll(async () => {
    const r = await run(process.execPath, [CLI, 'run', FIXTURE, '--out', out, '--json'], { timeout: 60_000, env });
    report = JSON.parse(r.stdout);
    stderr = r.stderr;
  }, 90_000);

  it('leaves no process behind', () => {
    expect(taggedProcesses(tag)).toEqual([]);
  });

  it('reports both phases with throughput, latency, parts, CPU, context switches and loop delay', () => {
    expect(report.schema).toBe('srvlens.report/2');
    expect(report.host.cpus).toBeGreaterThan(0);
    expect(report.runs).toHaveLength(1);
    expect(report.runs[0]).toMatchObject({ server: 'loop', model: 'event-loop' });
    const phases = report.runs[0].phases;
    expect(phases.map((p) => p.name)).toEqual(['light', 'busier']);
    for (const p of phases) {
      expect(p.achieved_rps).toBeGreaterThan(0);
      expect(p.errors).toBe(0);
      expect(p.latency_ms.p99).toBeGreaterThanOrEqual(p.latency_ms.p50!);
      expect(p.parts_ms.process).toBeGreaterThan(0);
      expect(p.parts_ms.downstream).toBeGreaterThan(0);
      expect(p.cpu_ms_per_request).toBeGreaterThan(0);
      expect(p.context_switches_per_request!.voluntary + p.context_switches_per_request!.involuntary).toBeGreaterThan(0);
      expect(p.eventloop_delay_ms).not.toBeNull();
      expect(p.eventloop_utilization).toBeGreaterThan(0);
      // The backend's own CPU, read in its process (ms, not µs: a call is a timer and a small HTTP exchange).
      expect(p.backend!.cpu_ms_per_call, `backend CPU per call in ${p.name}`).toBeGreaterThan(0.01);
      expect(p.backend!.cpu_ms_per_call).toBeLessThan(5);
    }
    expect(stderr).toContain('light');
  });

  it('finds the known CPU time and backend latency within 10 %, plus the run-queue wait it measured', () => {
    const [light, busier] = report.runs[0].phases;
    for (const p of [light, busier]) {
      // The stage's wall time is its 3 ms of CPU plus whatever time the loop thread waited for a CPU inside it: on
      // a busy machine a spin preempted near its end grows by that wait, which the process's run-queue figure gives.
      const waited = p.runqueue_wait_ms_per_request ?? 0;
      expect(p.parts_ms.process!, `process in ${p.name}`).toBeGreaterThan(3.0 * 0.9);
      expect(p.parts_ms.process!, `process in ${p.name} (run-queue wait ${waited} ms per request)`).toBeLessThan(3.0 * 1.1 + waited);
      // The CPU the process stage burns is part of the process's CPU time.
      expect(p.cpu_ms_per_request!).toBeGreaterThan(2.7);
    }
    // On a lightly used loop a backend reply is picked up at once. In the busier phase `downstream` also holds the
    // wait for the loop to come back to the request: that is the event-loop model's cost, so only light is checked.
    // Like process above, its wall time grows by the loop thread's waits for a CPU on a busy machine.
    // And by the backend's own lateness: it times how much later than its 20 ms its timer ran (its process waiting
    // for one of the 2 cores the server and the generator share with it).
    const waited = light.runqueue_wait_ms_per_request ?? 0;
    const late = light.backend!.mean_late_ms!;
    expect(late, 'the backend\'s own lateness per call').toBeGreaterThanOrEqual(0);
    expect(light.parts_ms.downstream!, 'downstream in light').toBeGreaterThan(20.0 * 0.9);
    expect(light.parts_ms.downstream!, `downstream in light (run-queue wait ${waited} ms per request, backend ${late} ms late a call)`).toBeLessThan(
      20.0 * 1.1 + waited + late,
    );
    // Busier holds at least light's downstream less what light waited for a CPU (a busy machine can make light's
    // waits the longer of the two: the stages burn CPU time, so a preempted stage keeps the loop from a reply).
    expect(busier.parts_ms.downstream!, `downstream in busier (light waited ${waited} ms per request)`).toBeGreaterThanOrEqual(
      (light.parts_ms.downstream! - waited) * 0.95,
    );
  });

  it('covers the latency with its marks: unmeasured is at most 10 % of the mean', () => {
    for (const p of report.runs[0].phases) {
      expect(Math.abs(p.parts_ms.unmeasured!)).toBeLessThanOrEqual(0.1 * p.latency_ms.mean!);
      const sum = Object.values(p.parts_ms).reduce<number>((s, v) => s + (v ?? 0), 0);
      expect(sum).toBeCloseTo(p.latency_ms.mean!, 2);
    }
  });

  it('checks its own figures: every check holds, and the CPU, count, unmeasured, Little\'s law and agents\' drop checks are taken', () => {
    expect(report.runs[0].checks_failed).toBe(0);
    for (const p of report.runs[0].phases) {
      for (const c of p.checks) expect(c.ok, `${p.name} ${c.id}: ${c.detail}`).not.toBe(false);
      const taken = p.checks.filter((c) => c.ok === true).map((c) => c.id);
      // The event loop splits no request by schedstat: thread_split is not taken.
      expect(taken, `${p.name}: ${p.checks.filter((c) => c.ok !== true).map((c) => `${c.id}: ${c.detail}`).join('; ')}`).toEqual(['cpu_within_host', 'requests_counted', 'unmeasured_small', 'littles_law', 'agents_kept_all']);
    }
  });

  it('says beside downstream when it holds the wait for the busy loop, with the loop\'s delay', async () => {
    const text = (await run(process.execPath, [CLI, 'report', out])).stdout;
    for (const p of report.runs[0].phases) {
      const note = new RegExp(`note: in phase ${p.name} downstream \\([\\d.]+ ms\\) includes the time each reply waited for the busy event loop \\(loop delay p50 [\\d.]+ ms, p99 [\\d.]+ ms\\)`);
      if (p.downstream_includes_loop_wait) expect(text).toMatch(note);
      else expect(text).not.toMatch(note);
    }
  });

  it('reads the recording back into the same report', async () => {
    const again = JSON.parse((await run(process.execPath, [CLI, 'report', out, '--format', 'json'])).stdout) as Report;
    expect(again.runs).toEqual(report.runs);
    const text = (await run(process.execPath, [CLI, 'report', out])).stdout;
    expect(text).toMatch(/== loop: event-loop/);
    expect(text).toMatch(/busier/);
  });
});

describe('srvlens run, interrupted', () => {
  it('after kill -9 of the runner, the children go and the report reads up to the last complete frame', async () => {
    const out = join(dir, 'killed.srvlens.gz');
    const { tag, env } = newTag();
    const child = spawn(process.execPath, [CLI, 'run', FIXTURE, '--out', out], { stdio: ['ignore', 'ignore', 'pipe'], env });
    let progress = '';
    child.stderr.on('data', (d) => (progress += d));
    // Wait for a few frames of load, then kill without warning.
    expect(await waitUntil(() => (progress.match(/offered/g) ?? []).length >= 4, 30_000)).toBe(true);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // The orphans notice their parent's IPC channel close and leave by themselves.
    expect(await waitUntil(() => taggedProcesses(tag).length === 0, 10_000)).toBe(true);
    const r = await run(process.execPath, [CLI, 'report', out, '--json']);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.complete).toBe(false);
    expect(r.stderr + JSON.stringify(report.damage)).toMatch(/byte \d+/);
    expect(report.runs[0].phases[0].requests).toBeGreaterThan(0);
  });

  it('stops every child on SIGTERM and exits non-zero with the recording so far', async () => {
    const out = join(dir, 'term.srvlens.gz');
    const { tag, env } = newTag();
    const child = spawn(process.execPath, [CLI, 'run', FIXTURE, '--out', out], { stdio: ['ignore', 'ignore', 'pipe'], env });
    let progress = '';
    child.stderr.on('data', (d) => (progress += d));
    expect(await waitUntil(() => progress.includes('offered'), 30_000)).toBe(true);
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(130);
    expect(taggedProcesses(tag)).toEqual([]);
    const report = JSON.parse((await run(process.execPath, [CLI, 'report', out, '--json'])).stdout) as Report;
    expect(report.runs[0].phases.length).toBeGreaterThan(0);
  });
});

describe('srvlens run, bad input', () => {
  it('names the file, line and field of a scenario mistake, exits 2, shows no stack', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: bad\nservers:\n  - name: a\n    model: event-loop\nload:\n  phases:\n    - { name: x, rate: fast, duration_s: 1 }\n');
    const err = await run(process.execPath, [CLI, 'run', bad, '--out', join(dir, 'bad.srvlens.gz')]).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.stderr).toContain('bad.yaml:7:');
    expect(err.stderr).toContain('load.phases[0].rate');
    expect(err.stderr).not.toMatch(/\n\s+at /);
  });

  it('lists the commands, and every command has --help', async () => {
    const top = (await run(process.execPath, [CLI, '--help'])).stdout;
    for (const c of ['run', 'report', 'serve', 'backend']) {
      expect(top).toContain(c);
      const help = (await run(process.execPath, [CLI, c, '--help'])).stdout;
      expect(help).toContain(`Usage: srvlens ${c}`);
    }
  });
});

describe('srvlens run, short-lived server processes', () => {
  it('reports the server-side parts of requests served by processes that lived for one connection', async () => {
    const out = join(dir, 'forks.srvlens.gz');
    const { tag, env } = newTag();
    const r = await run(process.execPath, [CLI, 'run', join(import.meta.dirname, 'fixtures/fork-per-connection.yaml'), '--out', out, '--json'], { timeout: 60_000, env });
    const phase = (JSON.parse(r.stdout) as Report).runs[0].phases[0];
    expect(phase.requests).toBeGreaterThan(0);
    expect(phase.server_requests).toBeGreaterThan(0);
    // The whole Node process started for the connection is on the request's path, before its handler runs.
    expect(phase.parts_ms.server_queue!).toBeGreaterThan(30);
    expect(phase.parts_ms.process!).toBeGreaterThan(0.9);
    expect(phase.parts_ms.downstream!).toBeGreaterThan(9);
    expect(taggedProcesses(tag)).toEqual([]);
  }, 90_000);
});
