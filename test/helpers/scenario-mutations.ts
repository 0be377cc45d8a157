/**
 * Mutated scenario files for issue 19's bad-input property: the shipped scenarios with fields dropped, types
 * changed, numbers made huge, strings made unicode, bytes of the text changed, and anchor/alias bombs. One
 * generator for the fast run in npm test and the 10,000 of npm run test:reliability.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { ScenarioError } from '../../src/scenario/errors.js';
import { parseScenario } from '../../src/scenario/read-scenario.js';
import { generatorConfig } from '../../src/scenario/run/generator-config.js';
import { scenarioSeconds } from '../../src/scenario/run/runner.js';
import { checkGeneratorConfig } from '../../src/load/config.js';
import { planPhases } from '../../src/load/arrivals/plan.js';
import { resolveThreads } from '../../src/load/threads.js';
import { MAX_DURATION_S } from '../../src/scenario/schema/limits.js';

export const SHIPPED_TEXTS = readdirSync('scenarios')
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => readFileSync(join('scenarios', f), 'utf8'));

type Tree = unknown;

/** Every path to a value in the tree, the root excluded. */
function pathsOf(tree: Tree, prefix: (string | number)[] = []): (string | number)[][] {
  if (tree === null || typeof tree !== 'object') return [];
  const keys = Array.isArray(tree) ? tree.map((_, i) => i) : Object.keys(tree);
  return keys.flatMap((k) => [[...prefix, k], ...pathsOf((tree as Record<string | number, Tree>)[k], [...prefix, k])]);
}

const HUGE = [1e308, -1e308, 2 ** 53 + 1, 2 ** 64, 1e21, -0, 4294967296, 0.1 + 0.2, -1, 0, 1e-320];
const replacement: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...HUGE),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('\u0000', '\u202e/etc/passwd', '🙂'.repeat(50), 'x'.repeat(10_000), '1e999', 'NaN', '.inf', '~', '0x10', 'constant'),
  fc.array(fc.integer(), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.integer(), { maxKeys: 3 }),
  fc.constant(null).map(() => Array.from({ length: 200 }, () => ({ kind: 'constant', name: 'p', rate: 1e6, duration_s: 86_400 }))),
).map((v) => structuredClone(v)); // fresh each time: a shared object mutated twice would become a cycle

const treeMutation = fc.record({
  pick: fc.nat(),
  op: fc.constantFrom('drop', 'replace', 'rename', 'wrap'),
  value: replacement,
  key: fc.string({ unit: 'grapheme', maxLength: 12 }),
});

function mutateTree(tree: Tree, m: { pick: number; op: string; value: unknown; key: string }): Tree {
  const paths = pathsOf(tree);
  if (paths.length === 0) return m.value;
  const path = paths[m.pick % paths.length];
  let parent = tree as Record<string | number, Tree>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, Tree>;
  const last = path[path.length - 1];
  if (m.op === 'drop') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else if (m.op === 'replace') parent[last] = m.value;
  else if (m.op === 'wrap') parent[last] = [parent[last]];
  else if (!Array.isArray(parent)) {
    parent[m.key] = parent[last];
    delete parent[last];
  }
  return tree;
}

const textMutation = fc.record({ at: fc.nat(), op: fc.constantFrom('insert', 'delete', 'duplicate'), text: fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(':', '- ', '\t', '&a ', '*a', '{', '[', '"', '\n  ', '!!binary ', '<<: *a\n', '%YAML 1.1\n', '---\n', '? ')), len: fc.nat(40) });

function mutateText(text: string, m: { at: number; op: string; text: string; len: number }): string {
  const i = m.at % (text.length + 1);
  if (m.op === 'insert') return text.slice(0, i) + m.text + text.slice(i);
  if (m.op === 'delete') return text.slice(0, i) + text.slice(i + m.len);
  return text.slice(0, i) + text.slice(i, i + m.len) + text.slice(i);
}

/** Billion laughs and friends: a few lines that expand to more nodes than memory holds, if let. */
function aliasBomb(depth: number, fan: number, where: 'root' | 'name' | 'phases'): string {
  const lines = [`a0: &a0 [${Array(fan).fill('"lol"').join(', ')}]`];
  for (let d = 1; d < depth; d++) lines.push(`a${d}: &a${d} [${Array(fan).fill(`*a${d - 1}`).join(', ')}]`);
  const top = `*a${depth - 1}`;
  const bomb = lines.map((l) => `x_${l}`).join('\n');
  if (where === 'root') return `${bomb}\nname: ${top}\n`;
  if (where === 'name') return `${bomb}\nname: bomb\nservers: [{ name: a, model: event-loop }]\nload: { phases: [{ name: p, rate: 1, duration_s: 1 }] }\ndescription: ${top}\n`;
  return `${bomb}\nname: bomb\nservers: [{ name: a, model: event-loop }]\nload: { phases: ${top} }\n`;
}

export const mutatedScenario: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.nat(), fc.array(treeMutation, { minLength: 1, maxLength: 4 })).map(([base, ms]) => {
    let tree: Tree = parse(SHIPPED_TEXTS[base % SHIPPED_TEXTS.length]);
    for (const m of ms) tree = mutateTree(tree, m);
    // anchors and aliases for repeated objects, as a user's file may have them
    return stringify(tree, { aliasDuplicateObjects: true });
  }) },
  { weight: 3, arbitrary: fc.tuple(fc.nat(), fc.array(textMutation, { minLength: 1, maxLength: 3 })).map(([base, ms]) => ms.reduce(mutateText, SHIPPED_TEXTS[base % SHIPPED_TEXTS.length])) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 2, max: 12 }), fc.constantFrom('root' as const, 'name' as const, 'phases' as const)).map(([d, f, w]) => aliasBomb(d, f, w)) },
);

/**
 * Runs `fn` and returns the inputs during which anything called process.emitWarning (yaml warns instead of failing
 * on some keys): a warning on the user's terminal is no located error.
 */
export function inputsThatWarn(fn: (onInput: (text: string) => void) => void): string[] {
  let current = '';
  const warned: string[] = [];
  const emitWarning = process.emitWarning;
  process.emitWarning = (() => void warned.push(current)) as typeof process.emitWarning;
  try {
    fn((text) => (current = text));
  } finally {
    process.emitWarning = emitWarning;
  }
  return warned;
}

/**
 * What must hold for any text: a ScenarioError whose every problem has a line, a column and a message (and a
 * message naming the file), or a scenario the generator takes, whose plan is laid out and whose length is bounded.
 * Anything else (another exception, a plan that cannot be built) throws.
 */
export function checkScenarioText(text: string, file = 'fuzz.yaml'): 'valid' | 'invalid' {
  let scenario;
  try {
    scenario = parseScenario(text, file);
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw new Error(`not a located error: ${(err as Error)?.stack ?? String(err)}\n--- input:\n${text.slice(0, 2000)}`);
    if (err.problems.length === 0) throw new Error(`a ScenarioError without problems: ${err.message}`);
    for (const p of err.problems) {
      if (!(p.line >= 1 && p.column >= 1 && typeof p.path === 'string' && p.message.length > 0)) throw new Error(`unlocated problem ${JSON.stringify(p)}`);
    }
    if (!err.message.startsWith(`${file}:`)) throw new Error(`message does not name the file: ${err.message}`);
    return 'invalid';
  }
  const config = generatorConfig(scenario, { host: '127.0.0.1', port: 8080 });
  checkGeneratorConfig(config);
  resolveThreads(config);
  const seconds = scenarioSeconds(scenario);
  const phaseCap = scenario.load.phases.length * MAX_DURATION_S * 2 * scenario.servers.length;
  if (!(Number.isFinite(seconds) && seconds <= phaseCap)) throw new Error(`scenario lasts ${seconds} s`);
  // A plan of many phases at the limits is still intervals, not arrivals: laid out in memory in one go.
  planPhases(config.phases, 0, scenario.interval_ms);
  return 'valid';
}
