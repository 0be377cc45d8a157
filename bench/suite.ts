/**
 * Every benchmark in one go (issue 18): each bench's built entry point runs as a child with --json, one after
 * another (they saturate the same cores), and its figures, each a median over rounds with its spread, are held
 * against their targets: met or MISSED, or not run with the reason. Writes bench-results.json (machine, date,
 * command, figures) and prints the table; --readme puts that table in the README's Performance section.
 * A measurement, not a test: a missed target exits 0.
 *
 *   npm run bench [-- --quick] [--only ID,ID] [--out bench-results.json]
 *   npm run bench -- --readme            (only the README, from an existing bench-results.json)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { hostFacts } from '../src/scenario/run/host-facts.js';
import { PACKAGE_ROOT } from '../src/vocabulary/package-paths.js';
import { notRun, type Figure } from './suite/figures.js';
import { readResults, updateReadme, type SuiteResults } from './suite/readme.js';
import { BenchFailed, runBench } from './suite/run-bench.js';
import { SPECS, type BenchSpec } from './suite/specs.js';
import { tally, textTable } from './suite/table.js';

const USAGE = 'usage: npm run bench -- [--quick] [--only ID,...] [--out FILE] [--readme]';

async function runSpec(spec: BenchSpec, quick: boolean): Promise<{ figures: Figure[]; seconds: number }> {
  const began = Date.now();
  const seconds = () => Math.round((Date.now() - began) / 1000);
  const planned = (why: string) => spec.planned.map((p) => notRun(spec.id, p.name, p.unit, why));
  const unavailable = spec.unavailable?.() ?? null;
  if (unavailable !== null) return { figures: planned(`not run here: ${unavailable}`), seconds: 0 };
  const json: unknown[] = [];
  const failed: { run: string; why: string }[] = [];
  for (const args of spec.runs(quick)) {
    process.stderr.write(`${spec.id} ${args.join(' ')}\n`);
    try {
      json.push(await runBench(spec.id, spec.entry, [...args, '--json'], spec.nodeArgs ?? [], spec.timeoutS * 1000));
    } catch (err) {
      if (!(err instanceof BenchFailed)) throw err;
      // One run of several failing (agent-overhead's thread pool without the native addon) leaves the others' figures.
      failed.push({ run: `${spec.id} ${args.join(' ')}`, why: `the bench failed: it ${err.message}` });
    }
  }
  if (json.length === 0) return { figures: planned(failed.map((f) => f.why).join('; ')), seconds: seconds() };
  // The figures a failed run would have given are not known from its arguments: the run itself is the row.
  const failures = failed.map((f) => notRun(spec.id, f.run, '', f.why));
  const left = quick ? (spec.quickLeavesOut ?? []).map((l) => notRun(spec.id, l.name, l.unit, l.why)) : [];
  try {
    return { figures: [...spec.figures(json), ...failures, ...left], seconds: seconds() };
  } catch (err) {
    // Ours, not the machine's: the bench's JSON changed under the suite. The other benches' figures still count.
    process.stderr.write(`${spec.id}: ${(err as Error).stack}\n`);
    return { figures: planned(`the suite could not read its JSON: ${(err as Error).message}`), seconds: seconds() };
  }
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, out: { type: 'string' }, readme: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n\nbenches: ${SPECS.map((s) => s.id).join(', ')}\n`);
    return 0;
  }
  const out = values.out ?? join(PACKAGE_ROOT, 'bench-results.json');
  const readmeOnly = values.readme && values.only === undefined && !values.quick;
  if (readmeOnly) {
    const results = readResults(out);
    updateReadme(join(PACKAGE_ROOT, 'README.md'), results, out);
    process.stdout.write(`README.md: Performance section from ${out} (${results.date})\n`);
    return 0;
  }
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((id) => !SPECS.some((s) => s.id === id)) ?? [];
  if (unknown.length > 0) {
    process.stderr.write(`bench: no bench ${unknown.join(', ')}; there are ${SPECS.map((s) => s.id).join(', ')}\n`);
    return 2;
  }
  const specs = only ? SPECS.filter((s) => only.includes(s.id)) : SPECS;
  const began = new Date();
  const machine = await hostFacts();
  const figures: Figure[] = [];
  const benches: SuiteResults['benches'] = [];
  for (const spec of specs) {
    const r = await runSpec(spec, values.quick!);
    figures.push(...r.figures);
    benches.push({ id: spec.id, seconds: r.seconds });
    process.stderr.write(`${spec.id}: ${r.seconds} s\n`);
  }
  const results: SuiteResults = {
    date: began.toISOString(),
    command: `npm run bench --${process.argv.slice(2).map((a) => ` ${a}`).join('')}`.replace(/ --$/, ''),
    quick: values.quick!,
    seconds: Math.round((Date.now() - began.getTime()) / 1000),
    machine,
    benches,
    figures,
  };
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(
    `machine: ${machine.cpu_model}, ${machine.cpus} cores, ${machine.os}, kernel ${machine.kernel}, Node ${machine.node}\n` +
      `${results.command}, ${results.date}, took ${results.seconds} s\n\n` +
      textTable(figures) +
      `\n${tally(figures)}; written to ${out}\n`,
  );
  if (values.readme) updateReadme(join(PACKAGE_ROOT, 'README.md'), results, out);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
