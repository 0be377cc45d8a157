/**
 * The scenarios that ship with srvlens, by name, through the built CLI as a user runs it, from a working directory
 * with no scenarios/ folder (as in a project that installed srvlens). `validate` resolves a name exactly as `run`
 * and `capacity` do, without running load.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/read-scenario.js';
import { PACKAGE_ROOT } from '../../src/vocabulary/package-paths.js';

const CLI = join(PACKAGE_ROOT, 'dist/src/cli.js');
const SHIPPED = join(PACKAGE_ROOT, 'scenarios');
const NAMES = readdirSync(SHIPPED).filter((f) => f.endsWith('.yaml')).map((f) => basename(f, '.yaml')).sort();
const elsewhere = mkdtempSync(join(tmpdir(), 'srvlens-shipped-'));

function srvlens(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: elsewhere, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('shipped scenarios by name', () => {
  it('validate tour reads the package\'s scenarios/tour.yaml from any directory', () => {
    const r = srvlens('validate', 'tour', 'quickstart');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${join(SHIPPED, 'tour.yaml')}: valid`);
    expect(r.stdout).toContain(`${join(SHIPPED, 'quickstart.yaml')}: valid`);
    // tour compares every model: nine servers, as its file says.
    expect(r.stdout).toContain(`${loadScenario(join(SHIPPED, 'tour.yaml')).servers.length} server(s)`);
  });

  it('a path that exists wins over a shipped name', () => {
    writeFileSync(join(elsewhere, 'tour'), 'name: mine\nservers:\n  - { name: loop, model: event-loop }\nload:\n  phases:\n    - { name: a, kind: constant, rate: 10, duration_s: 2 }\n');
    const r = srvlens('validate', 'tour');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^tour: valid\n {2}note: 1 server\(s\), 1 phase\(s\), about 2 s of load\n/);
  });

  it.each([['run'], ['capacity'], ['validate']])('%s: an unknown name exits 2 with one line naming the shipped scenarios', (command) => {
    const r = srvlens(command, 'no-such-scenario');
    expect(r.code).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^(srvlens: )?scenario file not found: no-such-scenario .*no shipped scenario is named so/);
    expect(lines[0]).toContain(NAMES.join(', '));
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  it('a path that does not exist is not taken for a name, and the message gives the names', () => {
    const r = srvlens('validate', 'scenarios/tour.yaml');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`scenario file not found: scenarios/tour.yaml (looked for ${join(elsewhere, 'scenarios/tour.yaml')})`);
    expect(r.stderr).toContain(NAMES.join(', '));
  });

  it('run --help says a name works and that a path wins', () => {
    const r = srvlens('run', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout.replace(/\s+/g, ' ')).toContain('or the name of one that comes with srvlens (`srvlens scenarios` lists them; a path that exists wins over a name)');
  });
});

describe('srvlens scenarios', () => {
  it('lists every shipped scenario, one per line, with its description', () => {
    const r = srvlens('scenarios');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(NAMES);
    for (const [i, name] of NAMES.entries()) {
      const description = loadScenario(join(SHIPPED, `${name}.yaml`)).description;
      expect(description).not.toBe(''); // a shipped scenario says what it shows
      expect(lines[i]).toMatch(new RegExp(`^${name} +${description.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    }
  });

  it('--json gives name, description and file of each', () => {
    const r = srvlens('scenarios', '--json');
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as { name: string; description: string; file: string }[];
    expect(list.map((s) => s.name)).toEqual(NAMES);
    for (const s of list) {
      expect(s.file).toBe(join(SHIPPED, `${s.name}.yaml`));
      expect(s.description).toBe(loadScenario(s.file).description);
    }
  });
});
