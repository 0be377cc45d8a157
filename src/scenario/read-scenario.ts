/** Reads a scenario file; every problem in it is reported with file, line, column and field path. */
import { readFileSync } from 'node:fs';
import { LineCounter, isAlias, isScalar, parseDocument, visit, type Document } from 'yaml';
import { ScenarioError, type ScenarioProblem } from './errors.js';
import { explainIssues } from './explain-issue.js';
import { formatPath, locate } from './locate.js';
import { ScenarioSchema, type Scenario } from './schema.js';
import { scenarioNotFound } from './shipped.js';

/** Reads the scenario at the path `file` (commands turn a shipped scenario's name into its path first: shipped.ts). */
export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw scenarioNotFound(file);
    throw new ScenarioError('SCENARIO_UNREADABLE', file, [], `cannot read scenario file ${file}: ${e.message}`);
  }
  return parseScenario(text, file);
}

/** Parses and validates scenario text; `file` names it in messages. Throws ScenarioError listing every problem. */
export function parseScenario(text: string, file: string): Scenario {
  const lineCounter = new LineCounter();
  // prettyErrors off: we print our own one-line location, not yaml's multi-line excerpt.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length > 0) {
    // The tree is unreliable after a syntax error, so schema problems would only add noise.
    throw invalid(file, doc.errors.map((e) => ({ ...at(e.pos[0]), path: '', message: `YAML: ${e.message}` })));
  }
  const keys = keysNotWords(doc);
  if (keys.length > 0) throw invalid(file, keys.map((offset) => ({ ...at(offset), path: '', message: 'YAML: a key must be a word, not a list, a mapping or binary' })));
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err) {
    // e.g. an alias expanding beyond yaml's limit
    throw invalid(file, [{ ...at(0), path: '', message: `YAML: ${(err as Error).message}` }]);
  }
  const result = ScenarioSchema.safeParse(data);
  if (result.success) return result.data;
  const problems = explainIssues(result.error.issues, ScenarioSchema, data).map((p) => ({ ...at(locate(doc, p.path, p.onKey)), path: formatPath(p.path), message: p.message }));
  throw invalid(file, problems);
}

/**
 * Offsets of keys that are lists, mappings or binary (`? [a, b]: 1`, `{a: 1}: 2`, `!!binary a:`): no scenario
 * field has one, and turning them into JS keys makes yaml print a process warning instead of an error one can place.
 */
function keysNotWords(doc: Document): number[] {
  const offsets: number[] = [];
  visit(doc, {
    Pair(_, pair) {
      const key = isAlias(pair.key) ? pair.key.resolve(doc) : pair.key;
      // A tagged scalar can be an object too: `!!binary phases:` is a Uint8Array key.
      if (key != null && !(isScalar(key) && (key.value === null || typeof key.value !== 'object'))) offsets.push((pair.key as { range?: [number] } | null)?.range?.[0] ?? 0);
    },
  });
  return offsets;
}

function invalid(file: string, problems: ScenarioProblem[]): ScenarioError {
  const sorted = [...problems].sort((a, b) => a.line - b.line || a.column - b.column);
  // zod can raise one rule twice for a value (2**53 + 1 breaks both the integer and the maximum rule): say it once.
  const once = sorted.filter((p, i) => i === 0 || !sameProblem(p, sorted[i - 1]));
  return new ScenarioError('SCENARIO_INVALID', file, once);
}

function sameProblem(a: ScenarioProblem, b: ScenarioProblem): boolean {
  return a.line === b.line && a.column === b.column && a.path === b.path && a.message === b.message;
}
