/**
 * What `npm pack` ships: what a user runs (the compiled CLI, agent and dashboard, the shipped scenarios and their
 * schema, the Prometheus config, the docs, the addon's sources for a build where no prebuild fits), and nothing
 * else: no tests, benches, TypeScript sources or source maps. (Packed here without its prepack, so the prebuilt
 * addon is in only if an earlier pack made it: install.slow.test.ts packs as published and checks it is there.)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENTRY, PACKAGE_ROOT } from '../../src/vocabulary/package-paths.js';
import { packedFiles, type Packed } from '../helpers/pack.js';

let packed: Packed;
let files: Set<string>;
beforeAll(() => {
  packed = packedFiles();
  files = new Set(packed.files);
});

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [relative(PACKAGE_ROOT, path)];
  });
}

describe('the packed package', () => {
  it('holds no tests, benches, TypeScript sources or source maps', () => {
    const strays = packed.files.filter((f) => /^(dist\/)?(test|bench)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')) || f.endsWith('.map'));
    expect(strays).toEqual([]);
  });

  it('holds the files the CLI, the agent and the children they start load', () => {
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8'));
    const wanted = [
      pkg.bin.srvlens.replace(/^\.\//, ''),
      ...Object.values(pkg.exports as Record<string, string | Record<string, string>>).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t))).map((t) => t.replace(/^\.\//, '')),
      ...[ENTRY.backend, ENTRY.serve, ENTRY.generator, new URL(ENTRY.agent).pathname].map((p) => relative(PACKAGE_ROOT, p)),
      'dist/agents/node/agent-thread.js',
      'scenarios/tour.yaml',
      'scenarios/quickstart.yaml',
      'schemas/scenario.schema.json',
      'binding.gyp',
      'native/blocking_socket.c',
      'native/not-built.mjs',
      'README.md',
    ];
    expect(wanted.filter((f) => !files.has(f))).toEqual([]);
  });

  it('holds every compiled module of src, agents and dashboard (a child entry is loaded by path) and every shipped scenario', () => {
    const compiled = ['dist/src', 'dist/agents', 'dist/dashboard'].flatMap((d) => walk(join(PACKAGE_ROOT, d))).filter((f) => f.endsWith('.js'));
    expect(compiled.length).toBeGreaterThan(100);
    expect(compiled.filter((f) => !files.has(f))).toEqual([]);
    const scenarios = walk(join(PACKAGE_ROOT, 'scenarios'));
    expect(scenarios.filter((f) => !files.has(f))).toEqual([]);
  });

  it('holds the public API\'s type declarations and every declaration they import', () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(join(PACKAGE_ROOT, file), 'utf8');
      for (const m of text.matchAll(/from '(\.[^']+)\.js'/g)) visit(relative(PACKAGE_ROOT, join(PACKAGE_ROOT, file, '..', `${m[1]}.d.ts`)));
    };
    visit('dist/src/api.d.ts');
    expect(seen.size).toBeGreaterThan(1);
    expect([...seen].filter((f) => !files.has(f))).toEqual([]);
  });
});
