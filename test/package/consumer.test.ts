/**
 * A project that installed srvlens, as the tarball has it: TypeScript code importing the public API type-checks
 * (and a misuse of it does not), and a plain node:http app that marks a stage runs without the agent (every call a
 * no-op) and under `node --import srvlens/agent`, where the agent measures the stage it marked.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../../src/collect/receiver.js';
import type { AgentInterval } from '../../src/collect/otlp-json.js';
import { PACKAGE_ROOT } from '../../src/vocabulary/package-paths.js';
import { exitCode, spawnGathered, until, type GatheredChild } from '../helpers/children.js';
import { projectWithPackage } from '../helpers/pack.js';

const TSC = join(PACKAGE_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const DOWNSTREAM_MS = 20;
const REQUESTS = 5;
let project: string;

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'srvlens-consumer-'));
  projectWithPackage(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', noEmit: true, types: ['node'] } }),
  );
  writeFileSync(
    join(project, 'app.mjs'),
    `import http from 'node:http';
import { STAGE, flushAgent, markStage } from 'srvlens';
const server = http.createServer(async (req, res) => {
  if (req.url === '/flush') {
    await flushAgent(2000);
    res.end('flushed');
    return;
  }
  markStage(res, STAGE.downstream);
  setTimeout(() => { markStage(res, STAGE.send); res.end('ok'); }, ${DOWNSTREAM_MS});
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`,
  );
}, 120_000);

function tsc(file: string, text: string): { code: number | null; out: string } {
  writeFileSync(join(project, file), text);
  const r = spawnSync(process.execPath, [TSC, '-p', project, '--pretty', 'false'], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe('a TypeScript project importing srvlens', () => {
  it('type-checks code that uses the API, and rejects code that misuses it', () => {
    const good = tsc(
      'app.ts',
      `import http from 'node:http';
import { STAGE, beginRequest, endRequest, flushAgent, markStage, nameContext, type StageName } from 'srvlens';

nameContext('api', true);
const next: StageName = 'downstream';
const server = http.createServer((req, res) => {
  markStage(res, STAGE[next]);
  setTimeout(() => res.end('ok'), 5);
});
const conn = {};
beginRequest(conn, 0, 0);
endRequest(conn);
const flushed: Promise<void> = flushAgent(100);
export { server, flushed };
`,
    );
    expect(good.out).toBe('');
    expect(good.code).toBe(0);
    // The declarations are real types, not `any`: a stage name where its number belongs, and a name srvlens does
    // not export, are errors (a package without types would fail the good file above instead).
    const bad = tsc('app.ts', `import { markStage, notExported } from 'srvlens';\nmarkStage({}, 'downstream');\nexport { notExported };\n`);
    expect(bad.code).not.toBe(0);
    expect(bad.out).toContain("app.ts(1,21): error TS2305: Module '\"srvlens\"' has no exported member 'notExported'.");
    // (TypeScript 7 names the argument's type `string` here, earlier versions `"downstream"`.)
    expect(bad.out).toMatch(/app\.ts\(2,15\): error TS2345: Argument of type '(string|"downstream")' is not assignable to parameter of type 'number'/);
  }, 60_000);
});

describe('a plain node:http app marking a stage', () => {
  let app: GatheredChild | null = null;
  let collector: Collector | null = null;
  afterEach(async () => {
    app?.kill('SIGKILL');
    if (app) await exitCode(app);
    await collector?.close();
    app = null;
    collector = null;
  });

  async function start(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
    app = spawnGathered([...args, 'app.mjs'], env, project);
    const port = await until(() => /^(\d+)$/m.exec(app!.out())?.[1], 'the app\'s port');
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < REQUESTS; i++) expect(await (await fetch(`${base}/`)).text()).toBe('ok');
    return base;
  }

  it('runs without the agent: every call a no-op, flushAgent resolves at once', async () => {
    const base = await start([], { PATH: process.env.PATH });
    const before = performance.now();
    expect(await (await fetch(`${base}/flush`)).text()).toBe('flushed');
    expect(performance.now() - before).toBeLessThan(1000); // not the 2 s flushAgent would wait for an agent
    expect(app!.err()).toBe('');
  });

  it('under node --import srvlens/agent: the agent measures the stage the app marked', async () => {
    const received: AgentInterval[] = [];
    collector = await startCollector({ intervalMs: 200, onAgentIntervals: (l) => received.push(...l) });
    const base = await start(['--import', 'srvlens/agent'], {
      PATH: process.env.PATH,
      SRVLENS_COLLECTOR_URL: collector.metricsUrl,
      SRVLENS_INTERVAL_MS: '200',
      SRVLENS_SERVER_NAME: 'consumer',
    });
    const contexts = () => received.filter((a) => a.pid === app!.pid).flatMap((a) => a.contexts);
    const entered = () => contexts().reduce((s, c) => s + c.stage_entries.downstream, 0);
    await until(() => entered() >= REQUESTS, 'the marked requests in the agent\'s export', 10_000);
    expect(entered()).toBe(REQUESTS);
    // Each request waited DOWNSTREAM_MS on a timer after it marked downstream (a timer may fire up to ~1 ms early).
    expect(contexts().reduce((s, c) => s + c.stage_ms.downstream, 0)).toBeGreaterThanOrEqual(REQUESTS * (DOWNSTREAM_MS - 1));
    expect(await (await fetch(`${base}/flush`)).text()).toBe('flushed');
    expect(app!.err()).toBe('');
  });
});
