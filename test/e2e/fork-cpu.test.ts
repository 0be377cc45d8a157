/**
 * fork-per-connection on the tour's load (every phase, a new connection and so a new process per request): the
 * server's CPU as its agents recorded it is held, phase by phase, against
 *   - the host's cores: a tree of processes on this host cannot use more than all of them;
 *   - its process tree's CPU read from /proc by the test itself, over the same intervals: the root's own CPU, its
 *     reaped children's, and its living children's, which is what the agents must add up to between them.
 * Each connection's child is measured while it lives and hands its figures off to the parent's agent at its end;
 * a hand-off booked in the wrong interval shows here as a busy phase above the host's cores and the phase before
 * it short. Tolerances: the /proc series is sampled every 20 ms in 10 ms ticks, so each interval's bounds are off
 * by up to a sample (about 50 ms an interval, both ends together); and a child's last few ms after its hand-off
 * (its exit) are for the agents to miss, hence 12 % of the truth. The 2 % over the cores is the report's own
 * slack (self-checks.ts): the agents read the kernel's counters a few ms after each boundary, so an interval can
 * hold a little of the next one's CPU.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { readRecording } from '../../src/recording/reader.js';
import { phasesOf } from '../../src/analysis/phase-grouping.js';
import type { Frame } from '../../src/vocabulary/index.js';
import { cpuBetween, sampleProcessTree } from '../helpers/proc-tree-cpu.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli.js');
const MODEL = 'fork-per-connection';

/** Only what the test changes; every other key of the scenario is written back as it was read. */
interface Scenario {
  servers: { model: string }[];
  [key: string]: unknown;
}

const cpuOf = (f: Frame) => f.contexts.reduce((s, c) => s + c.cpu_user_ms + c.cpu_system_ms, 0);
const cores = (ms: number, spanMs: number) => `${(ms / spanMs).toFixed(2)} cores`;

describe('fork-per-connection on the tour', () => {
  it("records CPU within the host's cores in every phase, matching its process tree's CPU from /proc", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'srvlens-fork-cpu-'));
    const tour = parse(readFileSync(join(ROOT, 'scenarios/tour.yaml'), 'utf8')) as Scenario;
    tour.servers = tour.servers.filter((s) => s.model === MODEL);
    expect(tour.servers).toHaveLength(1);
    const scenario = join(dir, 'fork-tour.yaml');
    writeFileSync(scenario, stringify(tour));
    const out = join(dir, 'fork.srvlens.gz');

    // Started before the run, so the server is found within a sample of taking its title.
    const tree = sampleProcessTree((cmd) => cmd === `srvlens-server:${MODEL}`);
    try {
      await run(process.execPath, [CLI, 'run', scenario, '--out', out], { timeout: 120_000 });
    } finally {
      await tree.stop();
    }
    const series = await tree.ended;
    expect(series.length, 'the /proc sampler saw the server').toBeGreaterThan(0);

    const frames = (await readRecording(out)).records.filter((r): r is Frame => r.kind === 'frame');
    const phases = phasesOf(frames);
    expect(phases.map((p) => p.name)).toEqual(['r25', 'r50', 'r100', 'r200', 'r400']);
    const host = availableParallelism();
    const seen: string[] = [];
    for (const p of phases) {
      const spanMs = p.frames.reduce((s, f) => s + f.interval_ms, 0);
      const agent = p.frames.reduce((s, f) => s + cpuOf(f), 0);
      const truth = p.frames.reduce((s, f) => s + cpuBetween(series, f.t_ms, f.t_ms + f.interval_ms), 0);
      const say = `${p.name} (${p.frames.length} frames): agents ${agent.toFixed(0)} ms = ${cores(agent, spanMs)}, /proc tree ${truth.toFixed(0)} ms = ${cores(truth, spanMs)}, host ${host} cores`;
      seen.push(say);
      // Soft: a failing phase does not hide the figures of the phases after it.
      expect.soft(agent, `${say}: more than the host's cores`).toBeLessThanOrEqual(host * spanMs * 1.02);
      expect.soft(Math.abs(agent - truth), `${say}: the agents' CPU is off the /proc tree's`).toBeLessThanOrEqual(0.12 * truth + 50 * p.frames.length);
    }
    console.log(seen.join('\n'));
  }, 150_000);
});
