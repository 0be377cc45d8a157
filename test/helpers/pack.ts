/** The package as npm packs it for a user: what the tarball holds, and the tarball unpacked into a new project. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/vocabulary/package-paths.js';

export interface Packed {
  files: string[];
  entryCount: number;
  unpackedSize: number;
  /** The tarball's file name (in the destination folder when really packed). */
  filename: string;
}

function npmPack(args: string[]): Packed {
  // --ignore-scripts: no prepack hook may build or change anything while a test looks at the package.
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', ...args], { cwd: PACKAGE_ROOT, encoding: 'utf8', timeout: 60_000 });
  const [p] = JSON.parse(out) as { files: { path: string }[]; entryCount: number; unpackedSize: number; filename: string }[];
  return { files: p.files.map((f) => f.path).sort(), entryCount: p.entryCount, unpackedSize: p.unpackedSize, filename: p.filename };
}

/** What `npm pack` would put in the tarball (paths relative to the package root), without writing it. */
export function packedFiles(): Packed {
  return npmPack(['--dry-run']);
}

/**
 * A new project in `dir` with srvlens in node_modules/srvlens as the tarball has it (packed and unpacked, so a file
 * left out of `files` is missing here too). Its dependencies are this checkout's node_modules, linked rather than
 * installed: the test is about what the package ships, and a real install needs the registry (here
 * `npm install --offline` of the tarball fails with ENOTCACHED: npm's cache holds no package metadata).
 * @types is linked too, for a TypeScript consumer that uses node's types.
 */
export function projectWithPackage(dir: string): string {
  const packed = npmPack(['--pack-destination', dir]);
  const pkg = join(dir, 'node_modules', 'srvlens');
  mkdirSync(pkg, { recursive: true });
  execFileSync('tar', ['xzf', join(dir, packed.filename), '-C', pkg, '--strip-components=1']);
  symlinkSync(join(PACKAGE_ROOT, 'node_modules'), join(pkg, 'node_modules'));
  symlinkSync(join(PACKAGE_ROOT, 'node_modules', '@types'), join(dir, 'node_modules', '@types'));
  return pkg;
}

/**
 * The tarball as it is published: `npm pack` with its prepack script (prebuildify puts the addon, compiled here, in
 * prebuilds/linux-x64/), written to `dir`. Compiles the addon: slow-suite tests only.
 */
export function packForRelease(dir: string): Packed & { path: string } {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: PACKAGE_ROOT, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const [p] = JSON.parse(out) as { files: { path: string }[]; entryCount: number; unpackedSize: number; filename: string }[];
  return { files: p.files.map((f) => f.path).sort(), entryCount: p.entryCount, unpackedSize: p.unpackedSize, filename: p.filename, path: join(dir, p.filename) };
}

/** Tools a user's npm needs and nothing else: a PATH with no C toolchain (no cc, gcc, c++, make, python3). */
export const INSTALL_TOOLS = ['node', 'npm', 'npx', 'sh'];

/** `dir` made a folder of links to INSTALL_TOOLS; returns it, to be the whole PATH. */
export function pathWithoutCompiler(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const tool of INSTALL_TOOLS) {
    symlinkSync(execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), join(dir, tool));
  }
  return dir;
}
