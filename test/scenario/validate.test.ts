import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '../../dist/src/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'srvlens-validate-'));

function validate(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'validate', ...args], (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr });
    });
  });
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const VALID = `name: ok
servers:
  - { name: loop, model: event-loop }
slo: { p99_ms: 100 }
load:
  connection: new
  phases:
    - { name: up, kind: ramp, from: 10, to: 100, duration_s: 5, warmup_s: 1, arrivals: poisson }
    - { name: users, kind: closed, users: 10, think_ms: 50, think: exponential, duration_s: 5 }
`;

describe('srvlens validate', () => {
  it('exits 0 for a valid file and says so', async () => {
    const r = await validate(file('ok.yaml', VALID));
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain('ok.yaml: valid');
    expect(r.stdout).toContain('1 server(s), 2 phase(s), about 11 s of load');
  });

  it('exits 2 for an invalid file, one line per problem: file:line:col: field path: what', async () => {
    const bad = file('bad.yaml', VALID.replace('users: 10', 'users: 0').replace('think: exponential', 'think: poisson').replace('p99_ms: 100', 'p99ms: 100'));
    const r = await validate(bad);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      `${bad}:4:8: slo.p99ms: unknown key; did you mean "p99_ms"?`,
      `${bad}:9:43: load.phases[1].users: expected an integer from 1 to 100000, got 0`,
      `${bad}:9:67: load.phases[1].think: expected one of "fixed", "exponential", got "poisson"`,
    ]);
  });

  it('prints the same problems as JSON with --json, and exits 2 when any file is invalid', async () => {
    const good = file('good.yaml', VALID);
    const bad = file('bad-rate.yaml', VALID.replace('from: 10', 'from: -1'));
    const r = await validate(good, bad, '--json');
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout);
    expect(out.valid).toBe(false);
    expect(out.files.map((f: { valid: boolean }) => f.valid)).toEqual([true, false]);
    expect(out.files[1].problems).toEqual([{ line: 8, column: 37, path: 'load.phases[0].from', message: 'expected a number from 0 to 1000000, got -1' }]);
  });

  it('exits 2 for a file that is not there, saying where it looked', async () => {
    const r = await validate(join(dir, 'missing.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('scenario file not found');
  });

  it('finds every scenario that comes with srvlens valid', async () => {
    const scenarios = readdirSync(join(import.meta.dirname, '../../scenarios')).filter((f) => f.endsWith('.yaml'));
    expect(scenarios).toEqual(expect.arrayContaining(['io-bound.yaml', 'cpu-bound.yaml', 'mixed.yaml', 'overload-ramp.yaml', 'slow-clients.yaml', 'idle-connections.yaml', 'burst.yaml', 'capacity-search.yaml', 'quickstart.yaml']));
    const r = await validate(...scenarios.map((f) => join(import.meta.dirname, '../../scenarios', f)), '--json');
    expect(JSON.parse(r.stdout).files.filter((f: { valid: boolean }) => !f.valid)).toEqual([]);
    expect(r.code).toBe(0);
  });
});
