/**
 * The scenarios that come with srvlens (the package's own scenarios/ folder), by name: `srvlens run tour` is
 * scenarios/tour.yaml wherever the package is installed, whatever the working directory. A path that exists wins
 * over a name, so a user's own `tour` file (or folder) is never shadowed by ours.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { PACKAGE_ROOT } from '../vocabulary/package-paths.js';
import { ScenarioError } from './errors.js';

export const SHIPPED_DIR = join(PACKAGE_ROOT, 'scenarios');
const EXT = '.yaml';

/** How the commands that take a scenario describe their argument in --help. */
export const SCENARIO_ARG_HELP = 'a scenario file (YAML) or the name of one that comes with srvlens (`srvlens scenarios` lists them; a path that exists wins over a name)';

export interface ShippedScenario {
  /** What a user types: the file's name without `.yaml`. */
  name: string;
  /** The file's `description:` ("" when it has none). */
  description: string;
  file: string;
}

/** The shipped scenarios' names, sorted. */
export function shippedNames(): string[] {
  return readdirSync(SHIPPED_DIR).filter((f) => f.endsWith(EXT)).map((f) => basename(f, EXT)).sort();
}

/** Every shipped scenario with its description, sorted by name. */
export function shippedScenarios(): ShippedScenario[] {
  return shippedNames().map((name) => {
    const file = join(SHIPPED_DIR, name + EXT);
    // Only the description is read: checking the files is `srvlens validate`'s job (and the suite's).
    const doc = parse(readFileSync(file, 'utf8')) as { description?: unknown } | null;
    return { name, description: typeof doc?.description === 'string' ? doc.description : '', file };
  });
}

/**
 * The scenario file an argument means: the path itself when it exists, else the shipped scenario of that name
 * (a name has no `/` and no extension). Throws SCENARIO_NOT_FOUND naming the shipped ones otherwise.
 */
export function resolveScenarioFile(arg: string): string {
  if (existsSync(arg)) return arg;
  if (!arg.includes('/') && shippedNames().includes(arg)) return join(SHIPPED_DIR, arg + EXT);
  throw scenarioNotFound(arg);
}

/** The error for a scenario that is neither a file nor a shipped name, listing the names a user can give instead. */
export function scenarioNotFound(arg: string): ScenarioError {
  return new ScenarioError('SCENARIO_NOT_FOUND', arg, [],
    `scenario file not found: ${arg} (looked for ${resolve(arg)}), and no shipped scenario is named so; ` +
      `the shipped ones, by name (srvlens scenarios describes them): ${shippedNames().join(', ')}`);
}
