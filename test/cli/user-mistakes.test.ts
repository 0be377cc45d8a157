/**
 * A user's mistake ends the CLI with exit 2 and one line saying what was wrong, never a stack (that is for our
 * bugs, exit 1). Through the built CLI, as a user runs it, for mistakes that are caught far from the command line.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitCode, spawnGathered } from '../helpers/children.js';
import { freePort } from '../helpers/listen.js';

const CLI = join(import.meta.dirname, '../../dist/src/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'srvlens-mistakes-'));

async function srvlens(...args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawnGathered([CLI, ...args], process.env);
  const code = await exitCode(child, 30_000);
  return { code, stderr: child.err() };
}

function expectOneLine(stderr: string, ...words: string[]): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^srvlens: /);
  for (const w of words) expect(lines[0]).toContain(w);
  expect(stderr).not.toMatch(/internal error|\n\s+at /);
}

describe('the CLI on a user mistake', () => {
  it('run: a request path the generator cannot send (SRVLENS_LOAD_CONFIG) exits 2 with one line', async () => {
    // The scenario schema takes any path starting with "/"; the generator refuses a space, which would split the
    // request line. Caught in the generator's own process, it must still reach the user as their mistake.
    const file = join(dir, 'spaced-path.yaml');
    writeFileSync(
      file,
      `name: spaced
servers:
  - { name: loop, model: event-loop }
load:
  path: /with space
  phases:
    - { name: steady, kind: constant, rate: 10, duration_s: 1 }
`,
    );
    const r = await srvlens('run', file, '-q', '--out', join(dir, 'spaced.srvlens.gz'));
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, 'spaced-path.yaml', 'request.path');
  });

  it('attach: a PID that does not exist (PROC_NO_SUCH_PID) exits 2 with one line', async () => {
    const gone = spawnGathered(['-e', ''], process.env);
    await exitCode(gone);
    const r = await srvlens('attach', '--pid', String(gone.pid), '--duration', '0.5', '-q');
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, `--pid ${gone.pid}`, 'no such process');
  });

  it('serve: a --backend-port with no backend there (SRVLENS_BACKEND_CLOSED) exits 2 with one line', async () => {
    const nothing = await freePort();
    const r = await srvlens('serve', '--model', 'event-loop', '--port', '0', '--backend-port', String(nothing));
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, `cannot connect to backend 127.0.0.1:${nothing}`);
  });

  it('report: an unknown --format exits 2 with one line', async () => {
    const r = await srvlens('report', join(dir, 'none.srvlens.gz'), '--format', 'xml');
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, "--format must be text, json, markdown or html, not 'xml'");
  });

  it('report: a file that is not a recording (RECORDING_INVALID) exits 2 with one line', async () => {
    const file = join(dir, 'not-a-recording.srvlens.gz');
    writeFileSync(file, 'plain text, not gzip');
    const r = await srvlens('report', file);
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, 'not-a-recording.srvlens.gz');
  });
});
