/**
 * The cores a process may use, as its agent exports them: a node:http app under `node --import` the agent, started
 * inside a real cgroup made for the test with a quota of half a core (this machine runs the suite as root), sends
 * srvlens.cpu.limit 0.5 from `cgroup cpu.max` on its OTLP resource and on the scrape page's target_info.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ATTR } from '../../src/vocabulary/index.js';
import { makeCgroup, type TestCgroup } from '../helpers/cgroup.js';
import { freePort, listen, closeListeners } from '../helpers/listen.js';
import { waitUntil } from '../helpers/processes.js';

const REGISTER = join(import.meta.dirname, '../../dist/agents/node/register.js');
const APP = `import { createServer } from 'node:http'; createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1');`;

type OtlpAttribute = { key: string; value: { stringValue?: string; doubleValue?: number; intValue?: string } };

describe('the CPU limit the agent exports', () => {
  let child: ChildProcess | undefined;
  let cgroup: TestCgroup | undefined;
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    cgroup?.remove();
    closeListeners();
  });

  it('is the cgroup\'s quota, on the OTLP resource and on target_info', async () => {
    if (!existsSync(REGISTER)) throw new Error(`${REGISTER} is missing: build first (npx tsc -p .)`);
    const bodies: { resourceMetrics?: { resource?: { attributes?: OtlpAttribute[] } }[] }[] = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (req.url === '/v1/metrics') bodies.push(JSON.parse(body));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    const otlpPort = await listen(receiver);
    const metricsPort = await freePort();
    cgroup = makeCgroup({ quota: 0.5 });
    // The shell moves itself in, then becomes the app: the agent starts inside the cgroup.
    const into = cgroup.dirs.map((d) => `echo $$ > ${d}/cgroup.procs`).join(' && ');
    child = spawn('sh', ['-c', `${into} && exec "$0" --import "$1" --input-type=module -e "$2"`, process.execPath, pathToFileURL(REGISTER).href, APP], {
      env: {
        ...process.env,
        SRVLENS_INTERVAL_MS: '200',
        SRVLENS_COLLECTOR_URL: `http://127.0.0.1:${otlpPort}/v1/metrics`,
        SRVLENS_PROMETHEUS_PORT: String(metricsPort),
      },
      stdio: 'ignore',
    });

    let page = '';
    const scrape = () =>
      new Promise<string>((resolve) => {
        http.get({ host: '127.0.0.1', port: metricsPort, path: '/metrics', agent: false }, (res) => {
          let b = '';
          res.on('data', (c) => (b += c));
          res.on('end', () => resolve(b));
        }).on('error', () => resolve(''));
      });
    const deadline = Date.now() + 10_000;
    while (!page.includes('target_info{') && Date.now() < deadline) {
      page = await scrape();
      await new Promise((r) => setTimeout(r, 100));
    }
    const targetInfo = /^target_info\{(.*)\} 1$/m.exec(page)?.[1] ?? `no target_info in: ${page.slice(0, 500)}`;
    expect(targetInfo).toContain('srvlens_cpu_limit="0.5"');
    expect(targetInfo).toContain('srvlens_cpu_limit_source="cgroup cpu.max"');

    // The agent sends at interval boundaries once a thread has announced its ring; an idle app still sends.
    expect(await waitUntil(() => bodies.some((b) => b.resourceMetrics?.length), 10_000)).toBe(true);
    const attributes = Object.fromEntries(
      (bodies.find((b) => b.resourceMetrics?.length)!.resourceMetrics![0].resource?.attributes ?? []).map((a) => [a.key, a.value]),
    );
    expect(attributes[ATTR.cpuLimit]).toEqual({ doubleValue: 0.5 });
    expect(attributes[ATTR.cpuLimitSource]).toEqual({ stringValue: 'cgroup cpu.max' });
  });
});
