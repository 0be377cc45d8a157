import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRecording } from '../../src/recording/reader.js';
import { spawnGathered } from '../helpers/children.js';
import { newTag, taggedProcesses, waitUntil } from '../helpers/processes.js';

const CLI = join(import.meta.dirname, '../../dist/src/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'srvlens-kills-'));
// Not tagged: the process attach watches is the user's, and stays.
const watched = spawn('sleep', ['600'], { stdio: 'ignore' });
afterAll(() => {
  watched.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

// Models with processes of their own below the server (prefork's workers, a child per connection): the deepest trees.
const RUN = join(dir, 'run.yaml');
writeFileSync(RUN, 'name: kills\nservers: [{ name: pre, model: prefork }, { name: fork, model: fork-per-connection }]\nload: { connection: new, connections: 4, phases: [{ name: p, rate: 20, duration_s: 4 }] }\n');
const CAPACITY = join(dir, 'capacity.yaml');
writeFileSync(CAPACITY, 'name: kills-capacity\nservers: [{ name: pool, model: thread-pool }]\nslo: { p99_ms: 100 }\ncapacity: { start_rps: 50, probe_s: 1, warmup_s: 0.5, confirm_s: 2, max_seconds: 30 }\nload: { phases: [{ name: p, rate: 10, duration_s: 1 }] }\n');

const COMMANDS: Record<string, (out: string) => string[]> = {
  run: (out) => ['run', RUN, '--out', out, '-q'],
  capacity: () => ['capacity', CAPACITY, '--json'],
  dashboard: (out) => ['dashboard', '--port', '0', '--json', '--out', out],
  attach: () => ['attach', '--pid', String(watched.pid), '--duration', '60', '--json'],
};
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGKILL'] as const;
/** When each signal lands, s after the start: during startup, the first run, later. */
const DELAYS = [1.2, 2.5, 4.5];
const GONE_WITHIN_MS = 5000;

describe.each(Object.keys(COMMANDS))('srvlens %s killed (issue 19)', (command) => {
  it.each(SIGNALS.map((s, i) => [s, DELAYS[i]] as const))('by %s after %s s: no process left within 5 s, the recording readable', async (signal, delayS) => {
    const { tag, env } = newTag();
    const out = join(dir, `${command}-${signal}.srvlens.gz`);
    const child = spawnGathered([CLI, ...COMMANDS[command](out)], env);
    await new Promise((r) => setTimeout(r, delayS * 1000));
    const before = taggedProcesses(tag).length;
    expect(before, `${command} is running: ${child.err()}`).toBeGreaterThan(0);
    const killedAt = performance.now();
    child.kill(signal);
    const gone = await waitUntil(() => taggedProcesses(tag).length === 0, GONE_WITHIN_MS);
    const goneMs = performance.now() - killedAt;
    const left = taggedProcesses(tag);
    for (const p of left) process.kill(p.pid, 'SIGKILL');
    let recording = '-';
    if (command === 'run' || command === 'dashboard') {
      const read = await readRecording(out);
      expect(read.header, `${command}'s recording has its header`).not.toBeNull();
      recording = `${read.records.length} records, ${read.damage ? read.damage.kind : 'complete'}`;
    }
    console.log(`kill ${command} ${signal} at ${delayS} s: ${before} processes, ${left.length} left, gone in ${goneMs.toFixed(0)} ms, recording ${recording}`);
    expect(left.map((p) => p.cmd), `left behind by ${command} after ${signal}`).toEqual([]);
    expect(gone).toBe(true);
  });
});
