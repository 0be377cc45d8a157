import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/listen.js';
import { exitCode, spawnGathered, until } from '../helpers/children.js';
import { newTag, taggedProcesses } from '../helpers/processes.js';
import { BACKEND_CONFIG_ENV } from '../../src/servers/child-entry.js';
import type { Report } from '../../src/report/json-report.js';

const CLI = join(import.meta.dirname, '../../dist/src/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'srvlens-failures-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A server that serves for 1.5 s, says why on stderr, and exits 3: a crash with a cause, as a real one has. */
const CRASHER = `require('http').createServer((q, s) => s.end('ok')).listen(+process.env.PORT, '127.0.0.1');
setTimeout(() => { console.error('boom: out of cheese at handler.js:42'); process.exit(3); }, 1500);`;

function backendPids(tag: string): number[] {
  return taggedProcesses(tag).flatMap(({ pid }) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`${BACKEND_CONFIG_ENV}=`) ? [pid] : [];
    } catch {
      return [];
    }
  });
}

describe('a run whose server or backend dies (issue 19)', () => {
  it('goes on with the next server; the report marks the run crashed with its exit status and stderr, and the backend\'s errors as its', async () => {
    const port = await freePort();
    const scenario = join(dir, 'failures.yaml');
    writeFileSync(
      scenario,
      [
        'name: failures',
        'servers:',
        `  - { name: crasher, command: [${JSON.stringify(process.execPath)}, -e, ${JSON.stringify(CRASHER)}], port: ${port} }`,
        '  - { name: backend-dies, model: event-loop }',
        '  - { name: survivor, model: event-loop }',
        'load: { connections: 4, phases: [{ name: steady, rate: 50, duration_s: 5 }] }',
        '',
      ].join('\n'),
    );
    const { tag, env } = newTag();
    const out = join(dir, 'failures.srvlens.gz');
    const run = spawnGathered([CLI, 'run', scenario, '--out', out, '--json'], env);
    // The second run's backend, killed 1.5 s into its load.
    await until(() => run.err().includes('run 2/3'), 'the second run', 30_000);
    const backend = await until(() => backendPids(tag)[0], 'the second run\'s backend', 15_000);
    await new Promise((r) => setTimeout(r, 2500));
    process.kill(backend, 'SIGKILL');
    const code = await exitCode(run, 90_000);
    const report = JSON.parse(run.out()) as Report;
    const [crasher, backendDies, survivor] = report.runs;
    console.log(`run failures: exit ${code}; ${report.runs.map((r) => `${r.server}: ${r.ended?.failure ? `${r.ended.failure.who} died (${r.ended.failure.signal ?? `exit ${r.ended.failure.exit_code}`})` : 'ok'}`).join(', ')}`);
    expect(code, run.err()).toBe(3);
    expect(crasher.ended).toMatchObject({ ok: false, failure: { who: 'server', exit_code: 3, signal: null, stderr_tail: expect.stringContaining('boom: out of cheese at handler.js:42') } });
    expect(backendDies.ended).toMatchObject({ ok: false, failure: { who: 'backend', exit_code: null, signal: 'SIGKILL' } });
    expect(backendDies.ended!.error).toMatch(/the errors after it are the backend's, not backend-dies's/);
    // Served before the backend went, errors after: both in its figures.
    const phase = backendDies.source === 'generator' ? backendDies.phases[0] : null;
    expect(phase?.requests).toBeGreaterThan(50);
    expect(survivor.ended).toMatchObject({ ok: true, failure: null });
    expect(survivor.source === 'generator' && survivor.phases[0].errors).toBe(0);
    expect(run.err()).toMatch(/2 of 3 runs ended early/);
    // The text report says it too, first thing under the server.
    const text = spawnGathered([CLI, 'report', out], env);
    expect(await exitCode(text)).toBe(0);
    expect(text.out()).toMatch(/== crasher: external\nCRASHED: the server died during its run \(exit code 3\)[^\n]*\nits stderr ended:\n(  \| .*\n)*  \| boom: out of cheese at handler.js:42/);
    expect(text.out()).toMatch(/== backend-dies: event-loop\nBACKEND DIED: the backend tier died during the run \(killed by SIGKILL\)/);
  });
});
