/**
 * External servers: scenario servers given as a command. The schema's rules, then real runs through the CLI: a Python
 * standard-library server measured from outside (/proc), a plain node:http app with the agent preloaded, and the
 * ways a start fails or a run is cut short, each leaving no process behind.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Report } from '../../src/report/json-report.js';
import { ScenarioError } from '../../src/scenario/errors.js';
import { parseScenario } from '../../src/scenario/read-scenario.js';
import { closeListeners, freePort, listen } from '../helpers/listen.js';
import { newTag, taggedProcesses, waitUntil } from '../helpers/processes.js';

const CLI = join(import.meta.dirname, '../../dist/src/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'srvlens-external-'));

afterEach(closeListeners);

function errorOf(text: string): ScenarioError {
  try {
    parseScenario(text, 'ext.yaml');
  } catch (err) {
    if (err instanceof ScenarioError) return err;
    throw err;
  }
  throw new Error('expected a ScenarioError, but the scenario parsed');
}

const withServer = (server: string) => `name: ext
servers:
${server}
load:
  phases:
    - { name: a, rate: 10, duration_s: 1 }
`;

describe('an external server in a scenario', () => {
  it('is a command (a line or a list) and a port, with defaults for the rest; the report calls it external', () => {
    const s = parseScenario(
      withServer(`  - { name: py, command: "python3 -m http.server {port}", port: 8080 }
  - name: app
    command: [node, app.js, "--port={port}"]
    port: 8081
    ready: { http: /health, timeout_s: 20 }
    cwd: /srv/app
    env: { LOG_LEVEL: debug, WORKERS: 2 }
    agent: node
  - { name: loop, model: event-loop }`),
      'ext.yaml',
    );
    expect(s.servers[0]).toEqual({ name: 'py', model: 'external', size: {}, workload: {}, command: 'python3 -m http.server {port}', port: 8080 });
    expect(s.servers[1]).toMatchObject({
      model: 'external',
      command: ['node', 'app.js', '--port={port}'],
      ready: { http: '/health', timeout_s: 20 },
      cwd: '/srv/app',
      env: { LOG_LEVEL: 'debug', WORKERS: 2 },
      agent: 'node',
    });
    expect(s.servers[2]).toEqual({ name: 'loop', model: 'event-loop', size: {}, workload: {} });
  });

  it('has model or command, not both: the message names the file, line and field', () => {
    const err = errorOf(withServer('  - { name: py, model: event-loop, command: "python3 -m http.server", port: 8080 }'));
    expect(err.message).toBe(
      'ext.yaml:3:45: servers[0].command: give model (a reference server to run) or command (an external server to start), not both',
    );
  });

  it('needs the port it listens on', () => {
    const err = errorOf(withServer('  - name: py\n    command: python3 -m http.server'));
    expect(err.problems).toEqual([
      { line: 3, column: 5, path: 'servers[0].port', message: 'missing, expected a TCP port from 1 to 65535 (an external server needs the port it listens on)' },
    ]);
    expect(err.message).toMatch(/^ext\.yaml:3:5: servers\[0\]\.port: missing/);
  });

  it("says which kind of server a field belongs to, and checks the new fields' values", () => {
    const err = errorOf(
      withServer(`  - { name: py, command: x, port: 8080, size: { threads: 4 }, ready: { http: health } }
  - { name: loop, model: event-loop, agent: node }
  - { name: sh, command: [], port: 70000 }`),
    );
    expect(err.message.split('\n')).toEqual([
      'ext.yaml:3:47: servers[0].size: only a reference server (one with model) has size: an external server runs its own code',
      'ext.yaml:3:78: servers[0].ready.http: expected a path starting with "/", got "health"',
      'ext.yaml:4:45: servers[1].agent: only an external server (one with command) has agent',
      'ext.yaml:5:26: servers[2].command: expected a command line (run with sh -c) or a list: the program and its arguments, got an empty list',
      'ext.yaml:5:36: servers[2].port: expected an integer from 1 to 65535, got 70000',
    ]);
  });
});


function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

function writeScenario(name: string, scenario: object): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, stringify(scenario));
  return path;
}

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr });
    });
  });
}

/** Runs a scenario, then reads its recording back as the JSON report. */
async function runAndReport(scenario: string, env: NodeJS.ProcessEnv): Promise<{ run: CliResult; report: Report; text: string }> {
  const out = scenario.replace(/\.yaml$/, '.srvlens.gz');
  const run = await cli(['run', scenario, '--out', out, '--quiet'], env);
  expect(run.stderr, 'srvlens run failed').toBe('');
  expect(run.code).toBe(0);
  const report = JSON.parse((await cli(['report', out, '--format', 'json'])).stdout) as Report;
  const text = (await cli(['report', out])).stdout;
  return { run, report, text };
}

/**
 * Python's ThreadingHTTPServer, each request waiting 50 ms: a thread per connection lives long enough for /proc's
 * samples (every 250 ms) to see threads come and go. `{port}` is its last argument.
 */
const PYTHON_THREADING = `
import sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(0.05)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
`;

const pythonServer = (port: number) => ({ name: 'py', command: ['python3', '-c', PYTHON_THREADING, '{port}'], port, ready: { http: '/' } });
const shortLoad = (rate: number, seconds: number) => ({ connection: 'new', connections: 16, phases: [{ name: 'steady', rate, duration_s: seconds }] });

describe('srvlens run with an external server', () => {
  it("measures Python's ThreadingHTTPServer from outside: requests, the model /proc names, CPU and context switches", async () => {
    const { tag, env } = newTag();
    const port = await freePort();
    const scenario = writeScenario('python', { name: 'python', interval_ms: 500, servers: [pythonServer(port)], load: shortLoad(40, 3) });
    const { report, text } = await runAndReport(scenario, env);

    const [run] = report.runs;
    expect(run).toMatchObject({ server: 'py', model: 'external', size: {} });
    expect(run.detected_model?.model, run.detected_model?.evidence.join('\n')).toBe('thread-per-connection');
    const [phase] = run.phases;
    expect(phase.requests).toBeGreaterThan(60);
    expect(phase.errors).toBe(0);
    // Every request waits 50 ms in the handler, and the client sees it.
    expect(phase.latency_ms.p50).toBeGreaterThanOrEqual(50);
    // From /proc: what the model costs per request.
    expect(phase.cpu_ms_per_request).toBeGreaterThan(0);
    expect(phase.context_switches_per_request!.voluntary).toBeGreaterThan(0);
    expect(phase.runqueue_wait_ms_per_request).not.toBeNull();
    expect(phase.accept_queue).not.toBeNull();
    // Nothing in the server reported its requests: no server-side part is made up, and coverage says how little
    // the client's own parts cover of a latency that is mostly the server's 50 ms.
    expect(phase.server_requests).toBe(0);
    for (const part of ['accept_queue', 'server_queue', 'parse', 'process', 'downstream', 'transform', 'send', 'network'] as const) {
      expect(phase.parts_ms[part], part).toBeNull();
    }
    expect(phase.parts_ms.unmeasured).toBeGreaterThanOrEqual(50);
    expect(phase.coverage).toBeLessThan(0.5);
    expect(phase.eventloop_delay_ms).toBeNull();
    expect(phase.backend).toBeNull();
    expect(text).toContain('== py: external');
    expect(text).toContain('note: no agent in py reported its requests');

    expect(taggedProcesses(tag)).toEqual([]);
    expect(await accepts(port)).toBe(false);
  }, 40_000);

  it('preloads the agent into a plain node:http app (agent: node): its requests are split into parts; it is stopped after', async () => {
    const { tag, env } = newTag();
    const port = await freePort();
    const appDir = mkdtempSync(join(dir, 'app-'));
    // 2 ms of CPU in the handler, nothing else: all of it is `process` (the app marks no stages of its own).
    writeFileSync(
      join(appDir, 'app.mjs'),
      `import http from 'node:http';
http.createServer((req, res) => {
  const end = performance.now() + 2;
  while (performance.now() < end);
  res.end('ok');
}).listen(Number(process.env.PORT), '127.0.0.1');
`,
    );
    // A command line this time (run with sh -c), in the app's directory.
    const server = { name: 'app', command: `"${process.execPath}" app.mjs`, cwd: appDir, port, agent: 'node' };
    const scenario = writeScenario('node-app', { name: 'node-app', interval_ms: 500, servers: [server], load: { connections: 8, phases: [{ name: 'steady', rate: 50, duration_s: 3 }] } });
    const { report } = await runAndReport(scenario, env);

    const [run] = report.runs;
    expect(run).toMatchObject({ server: 'app', model: 'external' });
    expect(run.detected_model?.model).toBe('event-loop');
    const [phase] = run.phases;
    expect(phase.requests).toBeGreaterThan(100);
    expect(phase.errors).toBe(0);
    expect(phase.server_requests).toBeGreaterThan(0);
    expect(phase.parts_ms.process).toBeGreaterThan(1.9);
    expect(phase.parts_ms.server_queue).not.toBeNull();
    expect(phase.cpu_ms_per_request).toBeGreaterThan(0);
    expect(phase.eventloop_delay_ms).not.toBeNull();

    expect(taggedProcesses(tag)).toEqual([]);
    expect(await accepts(port)).toBe(false);
  }, 40_000);

  it('fails with exit 2 when the server is not ready in time, naming it and showing the end of its stderr', async () => {
    const { tag, env } = newTag();
    const port = await freePort();
    const server = { name: 'sleepy', command: "echo 'loading the model...' >&2; sleep 30", port, ready: { timeout_s: 1 } };
    const scenario = writeScenario('sleepy', { name: 'sleepy', servers: [server], load: shortLoad(10, 1) });
    const r = await cli(['run', scenario, '--out', join(dir, 'sleepy.srvlens.gz'), '--quiet'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`srvlens: server 'sleepy': not ready within 1 s (no connection accepted on 127.0.0.1:${port}); the end of its stderr:\nloading the model...`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(taggedProcesses(tag)).toEqual([]);
  }, 20_000);

  it('refuses a port something else already listens on, since it would measure that instead', async () => {
    const port = await listen(net.createServer());
    const scenario = writeScenario('taken', { name: 'taken', servers: [{ name: 'py', command: 'sleep 30', port }], load: shortLoad(10, 1) });
    const r = await cli(['run', scenario, '--out', join(dir, 'taken.srvlens.gz'), '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`server 'py': something already accepts connections on 127.0.0.1:${port}`);
  }, 20_000);
});

describe('an external server when the run is cut short', () => {
  /** Starts a long run of the Python server and resolves once load is flowing. */
  async function startLongRun(name: string) {
    const { tag, env } = newTag();
    const port = await freePort();
    const scenario = writeScenario(name, { name, interval_ms: 500, servers: [pythonServer(port)], load: shortLoad(20, 60) });
    // In a group of its own, as a shell's foreground job is: Ctrl-C reaches the whole group.
    const child = spawn(process.execPath, [CLI, 'run', scenario, '--out', join(dir, `${name}.srvlens.gz`)], { stdio: ['ignore', 'ignore', 'pipe'], env, detached: true });
    let progress = '';
    child.stderr!.on('data', (d) => (progress += d));
    expect(await waitUntil(() => progress.includes('offered'), 20_000), progress).toBe(true);
    expect(taggedProcesses(tag).some((p) => p.cmd.includes('ThreadingHTTPServer'))).toBe(true);
    return { child, tag, port };
  }

  it('stops it on Ctrl-C (SIGINT to the whole foreground group), exiting 130', async () => {
    const { child, tag, port } = await startLongRun('ctrl-c');
    const exited = once(child, 'exit');
    process.kill(-child.pid!, 'SIGINT');
    const [code] = await exited;
    expect(code).toBe(130);
    expect(taggedProcesses(tag)).toEqual([]);
    expect(await accepts(port)).toBe(false);
  }, 40_000);

  it('stops it even when the runner is killed outright (kill -9)', async () => {
    const { child, tag } = await startLongRun('kill-9');
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    // Its keeper sees the runner's channel close and ends the server's group.
    expect(await waitUntil(() => taggedProcesses(tag).length === 0, 10_000), JSON.stringify(taggedProcesses(tag))).toBe(true);
  }, 40_000);
});
