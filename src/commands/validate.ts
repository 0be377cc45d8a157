import type { Command } from 'commander';
import { EXIT, UserError } from '../vocabulary/errors.js';
import { fdBudget } from '../load/connections/fd-budget.js';
import { ScenarioError, type ScenarioProblem } from '../scenario/errors.js';
import { scenarioJsonSchemaText } from '../scenario/json-schema.js';
import { loadScenario } from '../scenario/read-scenario.js';
import { SCENARIO_ARG_HELP, resolveScenarioFile } from '../scenario/shipped.js';
import { scenarioSeconds } from '../scenario/run/runner.js';
import type { Scenario } from '../scenario/schema.js';

interface FileResult {
  file: string;
  valid: boolean;
  problems: ScenarioProblem[];
  /** Why the file could not be checked at all (not found, unreadable); null when it was read. */
  error: string | null;
  /** Things that are valid but worth knowing before a run. */
  notes: string[];
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('Check scenario files without running them: exit 0 when all are valid, 2 when any is not (each problem as file:line:col: field: what)')
    .argument('[files...]', `scenarios: each ${SCENARIO_ARG_HELP}`)
    .option('--json', 'print {valid, files: [{file, valid, problems: [{line, column, path, message}], error, notes}]} on stdout')
    .option('--print-schema', 'print the scenario JSON Schema (what schemas/scenario.schema.json holds) and exit')
    .action((files: string[], opts: { json?: boolean; printSchema?: boolean }) => {
      if (opts.printSchema) {
        process.stdout.write(scenarioJsonSchemaText());
        return;
      }
      if (files.length === 0) throw new UserError('validate: name at least one scenario file', 'SCENARIO_USAGE');
      const results = files.map(check);
      const valid = results.every((r) => r.valid);
      if (opts.json) process.stdout.write(`${JSON.stringify({ valid, files: results }, null, 2)}\n`);
      else for (const r of results) printText(r);
      process.exitCode = valid ? EXIT.ok : EXIT.usage;
    });
}

/** `file` in the result is the path read (a shipped scenario's, for a name), so its problems point into it. */
function check(arg: string): FileResult {
  let file = arg;
  try {
    file = resolveScenarioFile(arg);
    const scenario = loadScenario(file);
    return { file, valid: true, problems: [], error: null, notes: notesOf(scenario) };
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw err;
    return { file, valid: false, problems: [...err.problems], error: err.problems.length === 0 ? err.message : null, notes: [] };
  }
}

function printText(r: FileResult): void {
  if (!r.valid) {
    process.stderr.write(`${r.error ?? r.problems.map((p) => `${r.file}:${p.line}:${p.column}: ${p.path === '' ? '' : `${p.path}: `}${p.message}`).join('\n')}\n`);
    return;
  }
  process.stdout.write(`${r.file}: valid\n`);
  for (const n of r.notes) process.stdout.write(`  note: ${n}\n`);
}

/** Valid, but worth saying before a run. */
function notesOf(s: Scenario): string[] {
  const notes = [`${s.servers.length} server(s), ${s.load.phases.length} phase(s), about ${Math.round(scenarioSeconds(s))} s of load`];
  const fd = fdBudget();
  if (fd.limit !== null && s.load.idle_connections > fd.limit) {
    notes.push(`load.idle_connections is ${s.load.idle_connections} but this machine lets a process open ${fd.limit} files (ulimit -n): the generator will hold fewer and say how many`);
  }
  return notes;
}
