import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecording } from '../../src/recording/reader.js';
import { exitCode, spawnGathered } from '../helpers/children.js';
import { newTag, taggedProcesses } from '../helpers/processes.js';

const CLI = join(import.meta.dirname, '../../dist/src/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'srvlens-disk-full-'));
const disk = join(dir, 'disk');

/** A 256 KB tmpfs (root only, as this suite runs) filled but for `freeKb`: the disk that fills while recording. */
function leaveFree(freeKb: number): void {
  rmSync(join(disk, 'filler'), { force: true });
  const free = Number(execFileSync('df', ['--output=avail', '-k', disk], { encoding: 'utf8' }).trim().split('\n')[1]);
  writeFileSync(join(disk, 'filler'), Buffer.alloc(Math.max(0, free - freeKb) * 1024));
}

beforeAll(() => {
  execFileSync('mkdir', ['-p', disk]);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', disk]);
});
afterAll(() => {
  execFileSync('umount', [disk]);
  rmSync(dir, { recursive: true, force: true });
});

describe('the disk of a recording fills (issue 19)', () => {
  it('srvlens run stops with exit 4, says so, leaves no process, and every record before the full disk reads back', async () => {
    leaveFree(20);
    const scenario = join(dir, 'full.yaml');
    writeFileSync(scenario, 'name: full\nservers: [{ name: a, model: event-loop }]\nload: { phases: [{ name: p, rate: 200, duration_s: 60 }] }\n');
    const out = join(disk, 'run.srvlens.gz');
    const { tag, env } = newTag();
    const run = spawnGathered([CLI, 'run', scenario, '--out', out, '-q'], env);
    const code = await exitCode(run, 90_000);
    const said = /It holds the (\d+) records \((\d+) bytes\) written before/.exec(run.err());
    expect(code, run.err()).toBe(4);
    expect(run.err()).toMatch(/^srvlens: cannot write the recording .*: no space left on its disk\. It holds the \d+ records/m);
    expect(run.err()).not.toMatch(/at .*\.js:\d+/); // no stack: the user can fix this
    expect(taggedProcesses(tag)).toEqual([]);
    const { records, damage } = await readRecording(out);
    // The file ends at the last whole record: nothing half-written is left for a reader to trip on.
    expect(records.length).toBe(Number(said![1]));
    expect(statSync(out).size).toBe(Number(said![2]));
    expect(damage).toMatchObject({ kind: 'truncated', offset: Number(said![2]) });
    expect(records.filter((r) => r.kind === 'frame').length).toBeGreaterThan(0);
    const report = spawnGathered([CLI, 'report', out], env);
    expect(await exitCode(report)).toBe(0);
    console.log(`disk full, run: exit ${code} after ${records.length} records (${said![2]} bytes), 0 bytes of a partial record left, report reads them`);
  });

  it('srvlens dashboard --out stops with exit 4 and says so', async () => {
    leaveFree(0);
    const out = join(disk, 'dash.srvlens.gz');
    const { env } = newTag();
    const dash = spawnGathered([CLI, 'dashboard', '--port', '0', '--json', '--out', out], env);
    const code = await exitCode(dash, 20_000);
    expect(code, dash.err()).toBe(4);
    expect(dash.err()).toMatch(/srvlens: cannot write the recording .*dash\.srvlens\.gz: no space left on its disk\. It holds the 0 records \(0 bytes\)/);
    console.log(`disk full, dashboard: exit ${code}`);
  });
});
