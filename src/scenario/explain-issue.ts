/**
 * Turns zod's issues into sentences a user can act on: what was expected, what was written, and for a misspelt
 * key or value the likely intended one.
 */
import type { z } from 'zod';
import type { FieldPath } from './locate.js';

export interface Explained {
  path: FieldPath;
  message: string;
  /** The problem is the key itself (it should not be there), not its value. */
  onKey: boolean;
}

export function explainIssues(issues: readonly z.core.$ZodIssue[], schema: z.ZodType, data: unknown): Explained[] {
  const explained = issues.flatMap((issue) => explainIssue(issue, schema, data));
  // `rat: 200` yields both "rate: missing" and "rat: unknown key; did you mean rate?": the second says it all.
  const suggested = new Set(explained.flatMap((e) => (e.suggests ? [pathKey(e.suggests)] : [])));
  return explained.filter((e) => !(e.missing && suggested.has(pathKey(e.path))));
}

interface Explanation extends Explained {
  missing?: boolean;
  /** For an unknown key with a near miss, the path of the key probably meant. */
  suggests?: FieldPath;
}

function explainIssue(issue: z.core.$ZodIssue, schema: z.ZodType, data: unknown): Explanation[] {
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(schema, data, issue.path);
    const object = valueAt(data, issue.path).value as object;
    // A key already written is not the one meant by a misspelt one.
    const unused = known.filter((k) => !Object.hasOwn(object, k));
    return issue.keys.map((key) => {
      const near = nearest(key, unused);
      return {
        path: [...issue.path, key],
        message: near !== null ? `unknown key; did you mean "${near}"?` : `unknown key; expected one of: ${known.join(', ')}`,
        onKey: true,
        suggests: near !== null ? [...issue.path, near] : undefined,
      };
    });
  }
  const branch = closestBranch(issue);
  if (branch !== null) return branch.flatMap((i) => explainIssue({ ...i, path: [...issue.path, ...i.path] } as z.core.$ZodIssue, schema, data));
  const expectation = expectationOf(issue);
  // Messages that are not an expectation (a duplicate name) already say everything.
  if (!expectation.startsWith('expected ')) return [{ path: issue.path, message: expectation, onKey: false }];
  const { found, value } = valueAt(data, issue.path);
  if (!found) return [{ path: issue.path, message: `missing, ${expectation}`, onKey: false, missing: true }];
  const choices = choicesOf(issue);
  const near = typeof value === 'string' && choices !== null ? nearest(value, choices) : null;
  const suggestion = near !== null ? `; did you mean "${near}"?` : '';
  return [{ path: issue.path, message: `${expectation}, got ${show(value)}${suggestion}`, onKey: false }];
}

const pathKey = (path: FieldPath) => JSON.stringify(path.map(String));

/**
 * For a union whose value is of the right kind for exactly one branch (`slo` written as a mapping, with a bad key
 * in it), that branch's own issues: "unknown key p99ms" says more than "expected text or a mapping".
 */
function closestBranch(issue: z.core.$ZodIssue): z.core.$ZodIssue[] | null {
  if (issue.code !== 'invalid_union' || !Array.isArray(issue.errors) || 'discriminator' in issue) return null;
  const wrongKind = (list: readonly z.core.$ZodIssue[]) => list.every((i) => (i.code === 'invalid_type' || i.code === 'invalid_value') && i.path.length === 0);
  const near = issue.errors.filter((branch) => !wrongKind(branch));
  return near.length === 1 ? near[0] : null;
}

function expectationOf(issue: z.core.$ZodIssue): string {
  if (issue.code === 'custom' || issue.message.startsWith('expected ')) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case 'invalid_value':
    case 'invalid_union': {
      const choices = choicesOf(issue);
      return choices === null ? issue.message : `expected one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`;
    }
    default:
      return issue.message;
  }
}

const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
};

/** The allowed values of an enum, a literal or a discriminator, when the issue is about one. */
function choicesOf(issue: z.core.$ZodIssue): string[] | null {
  if (issue.code === 'invalid_value') return issue.values.map(String);
  // A discriminated union's issue lists its discriminator values; undefined stands for "may be left out".
  if (issue.code === 'invalid_union' && 'options' in issue && Array.isArray(issue.options)) {
    return (issue.options as unknown[]).filter((o) => o !== undefined).map(String);
  }
  return null;
}

function show(value: unknown): string {
  if (value === null) return 'nothing';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  return String(value);
}

function valueAt(data: unknown, path: FieldPath): { found: boolean; value: unknown } {
  let value = data;
  for (const segment of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, segment)) return { found: false, value: undefined };
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return { found: true, value };
}

/** The allowed word a written one is probably a typo of, if any. */
function nearest(written: string, allowed: readonly string[]): string | null {
  const w = written.toLowerCase();
  // `step_secs` for `step_s`, `duration` for `duration_s`: a word cut short or run on is a typo too.
  const extended = allowed.find((c) => Math.min(c.length, w.length) >= 4 && (w.startsWith(c.toLowerCase()) || c.toLowerCase().startsWith(w)));
  if (extended !== undefined) return extended;
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const d = editDistance(w, candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  // Two edits is a typo in a long word; in a short one it is a different word.
  return bestDistance <= (written.length > 4 ? 2 : 1) ? best : null;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** Minimal view of zod's schema definitions, enough to walk from the root to the object at a path. */
interface Def {
  type: string;
  innerType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
}
const defOf = (s: z.ZodType) => s.def as unknown as Def;

/** The keys the schema allows in the object at `path` (for a union, in the branch the data selects). */
function knownKeys(schema: z.ZodType, data: unknown, path: FieldPath): string[] {
  let s: z.ZodType | undefined = schema;
  let d = data;
  for (const segment of [...path, null]) {
    s = resolve(s, d);
    const def: Def | undefined = s && defOf(s);
    if (segment === null) return def?.shape ? Object.keys(def.shape) : [];
    s = def?.shape?.[String(segment)] ?? def?.element ?? def?.valueType;
    d = d !== null && typeof d === 'object' ? (d as Record<PropertyKey, unknown>)[segment] : undefined;
  }
  return [];
}

/** Unwraps defaults and optionals, and picks the union branch whose discriminator matches the data. */
function resolve(s: z.ZodType | undefined, data: unknown): z.ZodType | undefined {
  while (s && defOf(s).innerType) s = defOf(s).innerType;
  const def = s && defOf(s);
  if (def?.options && def.discriminator) {
    const tag = data !== null && typeof data === 'object' ? (data as Record<string, unknown>)[def.discriminator] : undefined;
    return def.options.find((o) => defOf(o).shape?.[def.discriminator!]?.safeParse(tag).success) ?? def.options[0];
  }
  // A plain union (`slo`: text or a mapping): a mapping's keys are the mapping branch's.
  if (def?.options && data !== null && typeof data === 'object') return def.options.find((o) => defOf(o).shape !== undefined) ?? s;
  return s;
}
