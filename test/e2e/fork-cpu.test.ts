/**
 * fork-per-connection on the tour's load (every phase, a new connection per request): the server's CPU as its
 * agents recorded it is held against the host's cores in every phase, and against its process tree's CPU read from
 * /proc by the test itself, interval by interval. Each connection's child is read from /proc by the parent's agent
 * while it lives, and hands off the rest at its end; before, a busy phase reported more CPU than the host has and
 * the phase before it too little. Tolerances: /proc counts in 10 ms ticks and the test samples every 20 ms, and a
 * child's last few ms after its hand-off (its exit) are the agent's to miss.
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

const cpuOf = (f: Frame) => f.contexts.reduce((s, c) => s + c.cpu_user_ms + c.cpu_system_ms, 0);

describe('fork-per-connection on the tour', () => {
  it('records CPU within the host\'s cores in every phase, matching its process tree\'s CPU from /proc', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'srvlens-fork-cpu-'));
    const tour = parse(readFileSync(join(ROOT, 'scenarios/tour.yaml'), 'utf8'));
    tour.servers = tour.servers.filter((s: { model: string }) => s.model === 'fork-per-connection');
    expect(tour.servers).toHaveLength(1);
    const scenario = join(dir, 'fork-tour.yaml');
    writeFileSync(scenario, stringify(tour));
    const out = join(dir, 'fork.srvlens.gz');

    const tree = sampleProcessTree((cmd) => cmd === 'srvlens-server:fork-per-connection');
    await run(process.execPath, [CLI, 'run', scenario, '--out', out], { timeout: 120_000 });
    const series = await tree.stop();
    expect(series.length, 'the /proc sampler saw the server').toBeGreaterThan(10);

    const frames = (await readRecording(out)).records.filter((r): r is Frame => r.kind === 'frame');
    const phases = phasesOf(frames);
    expect(phases.map((p) => p.name)).toEqual(['r25', 'r50', 'r100', 'r200', 'r400']);
    const cores = availableParallelism();
    for (const p of phases) {
      const spanMs = p.frames.reduce((s, f) => s + f.interval_ms, 0);
      const agent = p.frames.reduce((s, f) => s + cpuOf(f), 0);
      const truth = p.frames.reduce((s, f) => s + cpuBetween(series, f.t_ms, f.t_ms + f.interval_ms), 0);
      const say = `${p.name}: agents ${(agent / spanMs).toFixed(2)} cores, /proc tree ${(truth / spanMs).toFixed(2)} cores, host ${cores}`;
      expect(agent, say).toBeLessThanOrEqual(cores * spanMs * 1.02);
      expect(Math.abs(agent - truth), say).toBeLessThanOrEqual(0.12 * truth + 50 * p.frames.length);
    }
  }, 150_000);
});
