/**
 * A user's mistake ends the CLI with exit 2 and one line saying what was wrong, never a stack (that is for our
 * bugs, exit 1). Through the built CLI, as a user runs it, for mistakes that are caught far from the command line.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitCode, spawnGathered, until } from '../helpers/children.js';
import { freePort } from '../helpers/listen.js';

const CLI = join(import.meta.dirname, '../../dist/src/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'srvlens-mistakes-'));

async function srvlens(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return srvlensIn(process.env, ...args);
}

async function srvlensIn(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnGathered([CLI, ...args], env);
  const code = await exitCode(child, 30_000);
  return { code, stdout: child.out(), stderr: child.err() };
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

describe('the CLI where the native addon does not load', () => {
  // node-gyp-build looks for the addon of package NAME under $NAME_PREBUILD when it is set: a folder with neither a
  // build/Release nor a prebuilds/ is a platform no prebuild fits, with nothing compiled at install.
  const none = join(dir, 'no-addon');
  mkdirSync(none, { recursive: true });
  const env = { ...process.env, SRVLENS_PREBUILD: none };
  const FIX = '`npm rebuild srvlens`';

  it('serve: a blocking model exits 2 with one line naming the fix, before it starts a backend', async () => {
    const r = await srvlensIn(env, 'serve', '--model', 'thread-pool', '--port', '0');
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, 'the thread-pool model needs', 'No native build was found for platform=linux', FIX);
    expect(r.stdout).toBe(''); // not "in-process backend ... on 127.0.0.1:PORT"
  });

  it('run: a scenario with blocking models exits 2 naming them and the fix, and writes no recording', async () => {
    const file = join(dir, 'blocking.yaml');
    writeFileSync(
      file,
      `name: blocking
servers:
  - { name: loop, model: event-loop }
  - { name: pool, model: thread-pool }
  - { name: forks, model: prefork }
load:
  phases:
    - { name: steady, kind: constant, rate: 10, duration_s: 1 }
`,
    );
    const out = join(dir, 'blocking.srvlens.gz');
    const r = await srvlensIn(env, 'run', file, '-q', '--out', out);
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, 'the thread-pool, prefork models need', FIX);
    expect(existsSync(out)).toBe(false);
  });

  it('serve: an event-loop model serves the workload, its CPU stages on the fallback clock', async () => {
    const child = spawnGathered([CLI, 'serve', '--model', 'event-loop', '--port', '0', '--process-us', '2000'], env);
    try {
      const port = await until(() => /listening on 127\.0\.0\.1:(\d+)/.exec(child.out())?.[1], 'the server\'s port');
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/`);
        expect(res.status).toBe(200);
        expect((await res.arrayBuffer()).byteLength).toBe(1024);
      }
    } finally {
      child.kill('SIGTERM');
      expect(await exitCode(child)).toBe(0);
    }
    expect(child.err()).toBe('');
  });
});
