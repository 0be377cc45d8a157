/**
 * srvlens installed as a user installs it: the tarball as published (its prepack run, so the addon is prebuilt), put
 * into a new project by a real `npm install` whose PATH holds node, npm, npx and sh and no C toolchain. There the
 * agent measures a plain app, `npx srvlens run quickstart` runs, a blocking model serves on the prebuilt addon, and
 * SIGTERM to npx stops what the README tells users to run under it. Then the same package without its prebuild (a
 * platform none fits) installs all the same, the blocking models refuse with exit 2 and the fix, an event loop serves.
 *
 * Slow suite (npm run test:slow): two real installs from the registry and a 16 s scenario take a minute or two.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../../src/collect/receiver.js';
import type { AgentInterval } from '../../src/collect/otlp-json.js';
import { until } from '../helpers/children.js';
import { packForRelease, pathWithoutCompiler } from '../helpers/pack.js';
import { waitUntil } from '../helpers/processes.js';

const PREBUILD = 'prebuilds/linux-x64/srvlens.node';
const FIX = '`npm rebuild srvlens`';
const root = mkdtempSync(join(tmpdir(), 'srvlens-install-'));
const PATH = pathWithoutCompiler(join(root, 'bin'));
/**
 * The user's environment: HOME (npm's cache and config) and the PATH above, nothing of this test's but the suite's
 * SRVLENS_KERNEL=off (the kernel tracer is not what is tested here; without bpftrace on this PATH it would say so).
 */
const userEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  HOME: process.env.HOME,
  PATH,
  ...(process.env.SRVLENS_KERNEL === undefined ? {} : { SRVLENS_KERNEL: process.env.SRVLENS_KERNEL }),
  ...extra,
});

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function inProject(project: string, command: string, args: string[], timeout = 120_000): Ran {
  const r = spawnSync(command, args, { cwd: project, env: userEnv(), encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function newProject(name: string, tarball: string): { dir: string; install: Ran } {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  // --prefer-offline: tarballs from npm's cache where it has them, metadata from the registry.
  return { dir, install: inProject(dir, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], 240_000) };
}

/** A command under npx in the project, its output gathered. */
type Started = ChildProcess & { out: () => string; err: () => string };
const started: Started[] = [];
function npx(project: string, args: string[], extra: NodeJS.ProcessEnv = {}): Started {
  const child = spawn('npx', ['srvlens', ...args], { cwd: project, env: userEnv(extra), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const s = Object.assign(child, { out: () => out, err: () => err });
  started.push(s);
  return s;
}

/** Every process whose parent chain leads to `pid` (read from /proc), `pid` itself first. */
function tree(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const [child, parent] of parents) if (parent === out[i]) out.push(child);
  return out;
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');

function recordKinds(file: string): string[] {
  return gunzipSync(readFileSync(file)).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).kind);
}

let tarball: string;
let entryCount: number;
let project: string;

beforeAll(() => {
  const r = spawnSync('sh', ['-c', 'command -v cc gcc c++ g++ make python3'], { env: userEnv(), encoding: 'utf8' });
  expect(r.stdout).toBe(''); // the PATH really has no toolchain
  const packed = packForRelease(root);
  expect(packed.files).toContain(PREBUILD);
  tarball = packed.path;
  entryCount = packed.entryCount;
  const p = newProject('app', tarball);
  expect(p.install.stderr).not.toMatch(/npm error/);
  expect(p.install.code).toBe(0);
  project = p.dir;
}, 300_000);

/** Processes a test saw in a tree: a failing test's srvlens may outlive npx, re-parented where tree() cannot find it. */
const seen = new Set<number>();

afterEach(async () => {
  for (const child of started.splice(0)) {
    for (const pid of tree(child.pid!)) seen.add(pid);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  for (const pid of seen) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  seen.clear();
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('srvlens installed from its tarball with no C compiler on the PATH', () => {
  it('installed the prebuilt addon and compiled nothing', () => {
    const pkg = join(project, 'node_modules', 'srvlens');
    expect(existsSync(join(pkg, PREBUILD))).toBe(true);
    expect(existsSync(join(pkg, 'build'))).toBe(false);
    expect(entryCount).toBeLessThan(400);
  });

  it('the agent measures a plain node:http app: node --import srvlens/agent app.js', async () => {
    writeFileSync(
      join(project, 'app.js'),
      `import http from 'node:http';
const server = http.createServer((req, res) => setTimeout(() => res.end('ok'), 5));
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`,
    );
    const received: AgentInterval[] = [];
    const collector: Collector = await startCollector({ intervalMs: 200, onAgentIntervals: (l) => received.push(...l) });
    try {
      const app = spawn('node', ['--import', 'srvlens/agent', 'app.js'], {
        cwd: project,
        env: userEnv({ SRVLENS_COLLECTOR_URL: collector.metricsUrl, SRVLENS_INTERVAL_MS: '200' }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      app.stdout.on('data', (b: Buffer) => (out += b.toString()));
      started.push(Object.assign(app, { out: () => out, err: () => '' }));
      const port = await until(() => /^(\d+)$/m.exec(out)?.[1], "the app's port");
      for (let i = 0; i < 10; i++) expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
      const served = () => received.filter((a) => a.pid === app.pid).flatMap((a) => a.contexts).reduce((s, c) => s + c.requests, 0);
      await until(() => served() >= 10, "the app's requests in the agent's export", 10_000);
      expect(served()).toBe(10);
    } finally {
      await collector.close();
    }
  });

  it("a TypeScript file importing the API type-checks against the installed package's declarations", () => {
    writeFileSync(
      join(project, 'app.ts'),
      `import http from 'node:http';
import { STAGE, beginRequest, endRequest, flushAgent, markStage, nameContext, type StageName } from 'srvlens';

nameContext('api', true);
const next: StageName = 'downstream';
const server = http.createServer((req, res) => {
  markStage(res, STAGE[next]);
  res.end('ok');
});
const conn = {};
beginRequest(conn, 0, 0);
endRequest(conn);
const flushed: Promise<void> = flushAgent(100);
export { server, flushed };
`,
    );
    // The user's own TypeScript and Node types: this repository's, since the test installs nothing else.
    const types = join(import.meta.dirname, '../../node_modules/@types');
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', noEmit: true, typeRoots: [types], types: ['node'] }, files: ['app.ts'] }),
    );
    const tsc = inProject(project, process.execPath, [join(import.meta.dirname, '../../node_modules/typescript/bin/tsc'), '-p', '.', '--pretty', 'false']);
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.code).toBe(0);
  });

  it('npx srvlens run quickstart runs the shipped scenario and records it', () => {
    const r = inProject(project, 'npx', ['srvlens', 'run', 'quickstart', '--out', 'q.srvlens.gz'], 120_000);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/event-loop/);
    const json = inProject(project, 'npx', ['srvlens', 'report', 'q.srvlens.gz', '--format', 'json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.runs).toHaveLength(1);
    expect(report.runs[0].phases.map((p: { name: string }) => p.name)).toEqual(['light', 'heavy']);
  }, 120_000);

  it('npx srvlens serve --model thread-pool serves on the prebuilt addon, and SIGTERM to npx stops it', async () => {
    const serve = npx(project, ['serve', '--model', 'thread-pool', '--port', '0']);
    const port = await until(() => /thread-pool server listening on 127\.0\.0\.1:(\d+)/.exec(serve.out())?.[1], 'the server\'s port', 30_000);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      expect(res.status).toBe(200);
      // A pool thread served it, blocking in the addon's recv and send, and said which kernel thread it is.
      expect(Number(res.headers.get('x-srvlens-tid'))).toBeGreaterThan(0);
      expect((await res.arrayBuffer()).byteLength).toBe(1024);
    }
    const pids = tree(serve.pid!);
    pids.forEach((p) => seen.add(p));
    expect(pids.length).toBeGreaterThan(1); // npx, and the srvlens it started (through sh)
    serve.kill('SIGTERM');
    expect(await waitUntil(() => !pids.some(alive), 5_000)).toBe(true);
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });

  it('npx srvlens dashboard --out F: SIGTERM to npx ends the dashboard and F has its end record', async () => {
    const file = join(project, 'live.srvlens.gz');
    const dash = npx(project, ['dashboard', '--port', '0', '--out', file]);
    const port = await until(() => /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(dash.err())?.[1], "the dashboard's port", 30_000);
    const pids = tree(dash.pid!);
    pids.forEach((p) => seen.add(p));
    const signalled = performance.now();
    dash.kill('SIGTERM');
    expect(await waitUntil(() => !pids.some(alive), 5_000)).toBe(true);
    const goneMs = performance.now() - signalled;
    expect(goneMs).toBeLessThan(2_000);
    await expect(fetch(`http://127.0.0.1:${port}/v1/metrics`, { method: 'POST', body: '{}' })).rejects.toThrow();
    expect(recordKinds(file)).toEqual(['header', 'end']);
  });

  it('an unloadable prebuild (not a binary for this machine): a blocking model exits 2 with the fix', () => {
    const pkg = join(project, 'node_modules', 'srvlens');
    const good = readFileSync(join(pkg, PREBUILD));
    writeFileSync(join(pkg, PREBUILD), 'not an ELF file');
    try {
      const r = inProject(project, 'npx', ['srvlens', 'serve', '--model', 'prefork', '--port', '0']);
      expect(r.code).toBe(2);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain('the prefork model needs');
      expect(r.stderr).toContain(FIX);
    } finally {
      writeFileSync(join(pkg, PREBUILD), good);
    }
  });
});

describe('the package with no prebuild for this platform, installed with no C compiler', () => {
  let bare: string;
  let install: Ran;
  beforeAll(() => {
    // The tarball without prebuilds/, packed again as is (no prepack): what a platform without a prebuild gets.
    const unpacked = join(root, 'unpacked');
    mkdirSync(unpacked);
    execFileSync('tar', ['xzf', tarball, '-C', unpacked, '--strip-components=1']);
    rmSync(join(unpacked, 'prebuilds'), { recursive: true });
    const dest = join(root, 'bare-tarball');
    mkdirSync(dest);
    execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dest], { cwd: unpacked, stdio: 'ignore' });
    const p = newProject('bare', join(dest, 'srvlens-' + JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8')).version + '.tgz'));
    bare = p.dir;
    install = p.install;
  }, 300_000);

  it('installs all the same: the addon could not be compiled, and npm install goes on', () => {
    expect(install.stderr).not.toMatch(/npm error/);
    expect(install.code).toBe(0);
    expect(existsSync(join(bare, 'node_modules', 'srvlens', 'dist', 'src', 'cli.js'))).toBe(true);
  });

  it('a blocking model exits 2 with one line naming the fix; npm rebuild srvlens fails and says why', () => {
    const r = inProject(bare, 'npx', ['srvlens', 'serve', '--model', 'thread-pool', '--port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^srvlens: the thread-pool model needs srvlens's native addon .*No native build was found for platform=linux/)]);
    expect(r.stderr).toContain(FIX);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    const rebuild = inProject(bare, 'npm', ['rebuild', 'srvlens']);
    expect(rebuild.code).not.toBe(0);
    expect(rebuild.stderr).toMatch(/gyp ERR!/);
  });

  it('an event-loop model serves, its CPU stages on the fallback clock', async () => {
    const serve = npx(bare, ['serve', '--model', 'event-loop', '--port', '0']);
    const port = await until(() => /event-loop server listening on 127\.0\.0\.1:(\d+)/.exec(serve.out())?.[1], 'the server\'s port', 30_000);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      expect(res.status).toBe(200);
      expect((await res.arrayBuffer()).byteLength).toBe(1024);
    }
    expect(serve.err()).toBe('');
  });
});
