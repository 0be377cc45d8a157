/**
 * How long `srvlens report` takes on the tour's recording (test/report/fixtures/tour.srvlens.gz, nine servers), as a
 * user runs it: the CLI as a process, in text and in HTML (the page with its charts), with the CLI's own start
 * (`srvlens --version`) timed in the same rounds beside them, since that is part of every figure. In rounds whose
 * order rotates. A measurement, not a test: the issue sets no target for it.
 *
 *   npm run build && node dist/bench/report-time.js [--rounds 5] [--json]
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../src/vocabulary/package-paths.js';
import { figure } from './suite/figures.js';
import type { SuiteJson } from './suite/specs.js';
import { textTable } from './suite/table.js';
import { benchArgs } from './cli.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const TOUR = join(PACKAGE_ROOT, 'test/report/fixtures/tour.srvlens.gz');

const CASES = {
  'CLI start (srvlens --version)': ['--version'],
  'report, text': ['report', TOUR, '--format', 'text'],
  'report, html': ['report', TOUR, '--format', 'html'],
} as const;
type Case = keyof typeof CASES;

function timeCli(args: readonly string[]): number {
  const t0 = performance.now();
  // The output is read and dropped: a terminal's drawing is not the report's time.
  execFileSync(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 2 ** 20 });
  return performance.now() - t0;
}

const values = benchArgs('report-time', 'usage: node dist/bench/report-time.js [--rounds N] [--json]', {
  rounds: { type: 'string', default: '5' },
  json: { type: 'boolean', default: false },
});
const rounds = Number(values.rounds);
const names = Object.keys(CASES) as Case[];
const got = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Case, number[]>;
for (const n of names) timeCli(CASES[n]); // the page cache's turn
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < names.length; i++) {
    const n = names[(i + r) % names.length];
    got[n].push(timeCli(CASES[n]));
  }
}
const figures: SuiteJson['figures'] = names.map((n) => ({ name: `tour, 9 servers: ${n}`, unit: 'ms', samples: got[n] }));
if (values.json) process.stdout.write(`${JSON.stringify({ figures } satisfies SuiteJson)}\n`);
else process.stdout.write(textTable(figures.map((f) => figure({ ...f, bench: 'report-time' }))));
