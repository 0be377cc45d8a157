#!/usr/bin/env node
// Checks the import graph of the sources (src, agents, dashboard, bench) against the design's layering
// (shared/ARCHITECTURE.md, sections 2 and 10): no cycle between files or between folders, and each layer imports only
// what lies below it; and the packages they load against package.json's dependencies. Exits 1 with one line per
// violation, 0 when the graph is clean. Run by `npm test`.
//
// It reads relative `import`/`export ... from` specifiers (static and `import('...')`) with a regular expression:
// the sources are ESM TypeScript with `.js` specifiers, and a real parser would be a dependency for no gain here.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROOTS = ['src', 'agents', 'dashboard', 'bench'];

/** The layering rules: a file under `from` may import files of ours only under one of `allow`. */
const RULES = [
  { from: 'src/vocabulary/', allow: ['src/vocabulary/'], why: 'the vocabulary imports nothing of ours' },
  { from: 'agents/', allow: ['agents/', 'src/vocabulary/'], why: 'agents import only the vocabulary' },
  { from: 'src/analysis/', allow: ['src/analysis/', 'src/vocabulary/'], why: 'analysis imports only the vocabulary' },
];
/** Folders only the command layer (and the CLI, benches) may import. */
const TOP = ['src/commands/', 'dashboard/'];
const MAY_IMPORT_TOP = ['src/commands/', 'src/cli.ts', 'dashboard/', 'bench/'];
/**
 * The agent's preload runs in every thread of its host, before the app: what it loads is paid at each start (a
 * child per connection, a thread per connection). None of its files may load a package; the agent thread loads the
 * exporter in its own thread. hdr-histogram-js alone cost each start ~50 ms of CPU before this rule.
 */
const PRELOAD = 'agents/node/register.ts';

function sourceFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(relative(root, path));
  }
  return out;
}

const SPECIFIER = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

function specifiersOf(file) {
  return [...readFileSync(join(root, file), 'utf8').matchAll(SPECIFIER)].map((m) => m[1] ?? m[2] ?? m[3]);
}

function importsOf(file) {
  const found = new Set();
  for (const spec of specifiersOf(file)) {
    if (!spec.startsWith('.')) continue;
    const target = relative(root, resolve(root, dirname(file), spec)).replace(/\.js$/, '.ts');
    found.add(target);
  }
  return [...found];
}

const files = ROOTS.flatMap((r) => sourceFiles(join(root, r)));
const known = new Set(files);
const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => known.has(t))]));
const problems = [];

for (const [file, targets] of graph) {
  for (const rule of RULES) {
    if (!file.startsWith(rule.from)) continue;
    for (const t of targets) {
      if (!rule.allow.some((a) => t.startsWith(a))) problems.push(`layering: ${file} imports ${t} (${rule.why})`);
    }
  }
  if (!MAY_IMPORT_TOP.some((p) => file.startsWith(p))) {
    for (const t of targets) {
      if (TOP.some((p) => t.startsWith(p))) problems.push(`layering: ${file} imports ${t} (only commands import commands and the dashboard)`);
    }
  }
}

const preload = new Set();
const reach = (f) => {
  if (preload.has(f) || !graph.has(f)) return;
  preload.add(f);
  for (const t of graph.get(f)) reach(t);
};
reach(PRELOAD);
for (const file of preload) {
  for (const spec of specifiersOf(file)) {
    if (!spec.startsWith('.') && !spec.startsWith('node:')) problems.push(`preload: ${file} loads the package ${spec} (the preload loads no package)`);
  }
}

// Packages. Code that runs (everything but bench/) may load only what `dependencies` installs for a user, and every
// dependency must be loaded by code that runs: one named only by benches or tests belongs in devDependencies.
// `import type` is erased by the compiler and loads nothing; comments are left out (a usage example in a doc comment
// names the package it documents).
const RUNS = (f) => !f.startsWith('bench/');
const codeOf = (file) => readFileSync(join(root, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const dependencies = new Set(Object.keys(pkg.dependencies ?? {}));
const packageOf = (spec) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');
const loaded = new Set();
for (const file of files.filter(RUNS)) {
  for (const m of codeOf(file).matchAll(SPECIFIER)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec.startsWith('.') || spec.startsWith('node:') || /\b(?:import|export)\s+type\s/.test(m[0])) continue;
    const name = packageOf(spec);
    loaded.add(name);
    if (!dependencies.has(name)) problems.push(`dependencies: ${file} loads ${name}, which is not in package.json's dependencies`);
  }
}
for (const name of dependencies) {
  if (!loaded.has(name)) problems.push(`dependencies: ${name} is loaded by no code that runs (src, agents, dashboard): move it to devDependencies`);
}

/** Strongly connected components with more than one node (or a self-loop): Tarjan's algorithm. */
function cycles(nodes, edgesOf) {
  let index = 0;
  const idx = new Map(), low = new Map(), stack = [], on = new Set(), out = [];
  const visit = (v) => {
    idx.set(v, index); low.set(v, index); index++;
    stack.push(v); on.add(v);
    for (const w of edgesOf(v)) {
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v), low.get(w))); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const scc = [];
      let w;
      do { w = stack.pop(); on.delete(w); scc.push(w); } while (w !== v);
      if (scc.length > 1 || edgesOf(v).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of nodes) if (!idx.has(v)) visit(v);
  return out;
}

for (const scc of cycles([...graph.keys()], (f) => graph.get(f))) {
  problems.push(`file cycle (${scc.length} files): ${scc.join(' <-> ')}`);
}

// Folders, at two levels. A top-level folder (src/load, agents/proc, dashboard, bench) with all its subfolders is one
// package: no cycle between packages. Inside a package, its root files are its face (entries, shared errors) and
// may import its subfolders and be imported by them; the subfolders among themselves must form no cycle.
const TOP_LEVEL = (f) => {
  const parts = f.split('/');
  return parts[0] === 'src' || parts[0] === 'agents' ? parts.slice(0, parts.length > 2 ? 2 : 1).join('/') : parts[0];
};
const SUBFOLDER = (f) => {
  const top = TOP_LEVEL(f);
  const rest = dirname(f).slice(top.length + 1);
  return rest === '' ? null : `${top}/${rest.split('/')[0]}`;
};

function folderCycles(label, folderOf) {
  const edges = new Map();
  const example = new Map();
  for (const [file, targets] of graph) {
    const from = folderOf(file);
    if (from === null) continue;
    for (const t of targets) {
      const to = folderOf(t);
      if (to === null || to === from || TOP_LEVEL(file) !== TOP_LEVEL(t) && label === 'subfolder') continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from).add(to);
      const key = `${from} -> ${to}`;
      if (!example.has(key)) example.set(key, `${key} (${file} -> ${t})`);
    }
  }
  for (const scc of cycles([...edges.keys()], (d) => [...(edges.get(d) ?? [])])) {
    const through = [...example.entries()].filter(([k]) => k.split(' -> ').every((d) => scc.includes(d))).map(([, v]) => v);
    problems.push(`${label} cycle: ${scc.join(' <-> ')}, through:\n    ${through.join('\n    ')}`);
  }
}
folderCycles('package', (f) => (f === 'src/cli.ts' ? 'src/cli.ts' : TOP_LEVEL(f)));
folderCycles('subfolder', SUBFOLDER);

if (problems.length > 0) {
  for (const p of problems) console.error(`check-imports: ${p}`);
  console.error(`check-imports: ${problems.length} problem(s) in ${files.length} files`);
  process.exit(1);
}
console.log(`check-imports: ${files.length} files, no cycle, layering holds, ${dependencies.size} dependencies each loaded by code that runs`);
