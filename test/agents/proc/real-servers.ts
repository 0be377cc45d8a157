/**
 * Servers as real processes on 127.0.0.1 for the /proc agent's tests: ones nobody here wrote (Python's socketserver
 * classes, Debian's nginx), our reference servers as `srvlens run` starts them (the built CLI, the agent preloaded);
 * and the bounded loopback clients that drive them. Each server runs in a process group of its own, so stopping it
 * also stops the workers and children it made.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { waitUntil } from '../../helpers/processes.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
/** fixtures/timed-http.py (startTimedHttp), for a scenario to start it from a command. */
export const TIMED_HTTP = join(FIXTURES, 'timed-http.py');
const INSTALL_HINT = 'run scripts/test-deps.sh (it installs the Debian packages the tests need)';

export interface RunningServer {
  pid: number;
  port: number;
  /** Its stdout, line by line, as it came. */
  lines: string[];
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

function startGroup(cmd: string, args: string[], cwd?: string, env?: NodeJS.ProcessEnv): { child: ChildProcess; lines: string[] } {
  const child = spawn(cmd, args, { cwd, env: env && { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const lines: string[] = [];
  let partial = '';
  child.stdout!.on('data', (b: Buffer) => {
    const parts = (partial + b.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.resume();
  return { child, lines };
}

async function stopGroup(child: ChildProcess): Promise<void> {
  running.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  process.kill(-child.pid!, 'SIGKILL'); // the group: the server and every process it started
  await exited;
}

/** For afterEach/afterAll: stops whatever a test left running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map(stopGroup));
}

export type PythonKind = 'iterative' | 'threading' | 'forking';

/** fixtures/line-server.py: a socketserver echo server whose handler sleeps `delayS` per line. */
export const startPython = (kind: PythonKind, delayS: number) => startPythonFixture('line-server.py', [kind, String(delayS)]);

/** fixtures/forking-http.py: http.server with socketserver.ForkingMixIn, a process per connection. */
export const startForkingHttp = () => startPythonFixture('forking-http.py', []);

/**
 * fixtures/timed-http.py: http.server, a thread per connection (`threading`) or one request at a time (`iterative`),
 * each request `cpuMs` of CPU then `sleepMs` asleep, and the time from its read to its answer logged to `log`, one
 * line a request, by the server itself; the answer's body `bodyBytes` long (64 by default) and made of status lines.
 */
export const startTimedHttp = (log: string, kind: 'threading' | 'iterative', cpuMs: number, sleepMs: number, bodyBytes?: number) =>
  startPythonFixture('timed-http.py', [log, kind, String(cpuMs), String(sleepMs), ...(bodyBytes === undefined ? [] : ['0', String(bodyBytes)])]);

/**
 * fixtures/calling-app.mjs: a plain node:http app (no agent) that burns `cpuMs` on its loop a request, then calls
 * `backendPort` and answers with the reply; it logs each call's time from its start to its reply's end to `log`.
 */
export const startCallingApp = (log: string, backendPort: number, cpuMs: number) =>
  startFixture(process.execPath, 'calling-app.mjs', [log, String(backendPort), String(cpuMs)]);

/** A Python fixture that prints its port as its first line. */
const startPythonFixture = (file: string, args: string[]) => startFixture('python3', file, args);

/** A fixture that prints its port as its first line. */
async function startFixture(interpreter: string, file: string, args: string[]): Promise<RunningServer> {
  const { child, lines } = startGroup(interpreter, [join(FIXTURES, file), ...args]);
  const spawnError = once(child, 'error').then(([err]) => {
    throw new Error(`${interpreter} could not start (${(err as Error).message}): ${INSTALL_HINT}`);
  });
  await Promise.race([spawnError, waitUntil(() => lines.length > 0 || child.exitCode !== null, 10_000)]);
  const port = Number(lines[0]);
  if (!Number.isInteger(port) || port <= 0) throw new Error(`${file} ${args.join(' ')} did not print its port (exit ${child.exitCode})`);
  return { pid: child.pid!, port, lines, stop: () => stopGroup(child) };
}

const DIST = join(import.meta.dirname, '../../../dist');

/**
 * `srvlens serve ARGS` from the built CLI (`npx tsc -p .` first; `npm test` does it), with srvlens's agent preloaded
 * and exporting to `collectorUrl`, as the scenario runner starts a reference server; with `collectorUrl` null, with no
 * agent, as a server nobody instrumented. `pid` is its primary process.
 */
export async function startReference(args: string[], collectorUrl: string | null): Promise<RunningServer> {
  const agent = pathToFileURL(join(DIST, 'agents/node/register.js')).href;
  const preload = collectorUrl === null ? [] : ['--import', agent];
  const { child, lines } = startGroup(process.execPath, [...preload, join(DIST, 'src/cli.js'), 'serve', ...args, '--port', '0'], undefined, {
    ...(collectorUrl === null ? {} : { SRVLENS_COLLECTOR_URL: collectorUrl }),
  });
  const listening = () => lines.map((l) => /server listening on [\d.]+:(\d+)$/.exec(l)).find((m) => m !== null);
  await waitUntil(() => listening() !== undefined || child.exitCode !== null, 10_000);
  const port = Number(listening()?.[1]);
  if (!(port > 0)) {
    await stopGroup(child);
    throw new Error(`srvlens serve ${args.join(' ')} did not say where it listens (exit ${child.exitCode}): ${lines.join('\n')}`);
  }
  return { pid: child.pid!, port, lines, stop: () => stopGroup(child) };
}

function sbinary(name: string): string {
  for (const dir of (process.env.PATH ?? '').split(':').concat('/usr/sbin')) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error(`${name} is not installed: ${INSTALL_HINT}`);
}

export const nginxBinary = () => sbinary('nginx');

async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** Direct children by ppid, read here without the code under test. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
    } catch {
      // ended while we looked
    }
  }
  return out;
}

/** What nginx serves at `/`: "ok" itself, or a proxy to a server on loopback `upstream` port. */
export interface NginxSite {
  upstream?: number;
}

function nginxConf(dir: string, port: number, workers: number, site: NginxSite): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `${k}_temp_path ${dir}/${k};`).join(' ');
  const location = site.upstream === undefined ? 'return 200 "ok\\n";' : `proxy_pass http://127.0.0.1:${site.upstream}; proxy_http_version 1.1; proxy_set_header Connection "";`;
  // access.log: nginx's own time for each request ($request_time: from its first read of the request to the log,
  // after the last byte is sent, in ms), one line a request.
  return `worker_processes ${workers};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 256; }
http {
  log_format timed '$request_time';
  access_log ${dir}/access.log timed;
  ${temp}
  server { listen 127.0.0.1:${port}; location / { ${location} } }
}
`;
}

/** Debian's nginx, a master and `workers` event-loop workers, from a config of its own in a temp dir. */
export async function startNginx(workers: number, site: NginxSite = {}): Promise<RunningServer & { dir: string }> {
  const bin = nginxBinary();
  const dir = mkdtempSync(join(tmpdir(), 'srvlens-nginx-'));
  // The port is free when chosen, and may be taken by the time nginx binds it: then nginx exits, and we try another.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), nginxConf(dir, port, workers, site));
    const { child, lines } = startGroup(bin, ['-e', join(dir, 'error.log'), '-p', dir, '-c', join(dir, 'nginx.conf')]);
    const ready = await waitUntil(() => child.exitCode !== null || childrenOf(child.pid!).length === workers, 10_000);
    if (ready && child.exitCode === null) {
      const stop = async () => {
        await stopGroup(child);
        rmSync(dir, { recursive: true, force: true });
      };
      return { pid: child.pid!, port, lines, dir, stop };
    }
    await stopGroup(child);
  }
  throw new Error(`nginx did not start; its log: ${readFileSync(join(dir, 'error.log'), 'utf8')}`);
}

/**
 * Apache's prefork MPM as Debian's apache2 package ships it: a master and a fixed pool of `workers` (no spares
 * started or stopped, none recycled), one listener, keep-alive off. Only the modules it needs; run as root, Apache
 * will not serve as root, so its workers become nobody.
 */
function apacheConf(dir: string, port: number, workers: number): string {
  const user = process.getuid?.() === 0 ? 'User nobody\nGroup nogroup\n' : '';
  return `ServerRoot ${dir}
ServerName 127.0.0.1
LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
Listen 127.0.0.1:${port}
PidFile ${dir}/httpd.pid
ErrorLog ${dir}/error.log
Mutex file:${dir}
DocumentRoot ${dir}/www
KeepAlive Off
StartServers ${workers}
MinSpareServers 1
MaxSpareServers ${workers}
ServerLimit ${workers}
MaxRequestWorkers ${workers}
MaxConnectionsPerChild 0
${user}`;
}

/** Debian's apache2 with the prefork MPM and `workers` workers, from a config of its own in a temp dir; it serves `/ok`. */
export async function startApachePrefork(workers: number): Promise<RunningServer> {
  const bin = sbinary('apache2');
  const dir = mkdtempSync(join(tmpdir(), 'srvlens-apache-'));
  mkdirSync(join(dir, 'www'));
  writeFileSync(join(dir, 'www', 'ok'), 'ok\n');
  chmodSync(dir, 0o755); // its workers may run as nobody
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    writeFileSync(join(dir, 'httpd.conf'), apacheConf(dir, port, workers));
    const { child, lines } = startGroup(bin, ['-f', join(dir, 'httpd.conf'), '-DFOREGROUND']);
    const ready = await waitUntil(() => child.exitCode !== null || childrenOf(child.pid!).length === workers, 10_000);
    if (ready && child.exitCode === null) {
      const stop = async () => {
        await stopGroup(child);
        rmSync(dir, { recursive: true, force: true });
      };
      return { pid: child.pid!, port, lines, stop };
    }
    await stopGroup(child);
  }
  throw new Error(`apache2 did not start; its log: ${existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '(none)'}`);
}

export interface Load {
  completed(): number;
  /** Stops the clients and waits for them; returns how many exchanges completed. */
  stop(): Promise<number>;
}

/** `n` clients, each in turn: connect, send a line, read the echo, close. Bounded by n and by the server's pace. */
export function lineClients(port: number, n: number): Load {
  let done = 0;
  let stopped = false;
  // Resolves true when the echo came back.
  const exchange = () =>
    new Promise<boolean>((resolve) => {
      let echoed = false;
      const s = net.connect(port, '127.0.0.1', () => s.write('x\n'));
      s.on('data', () => {
        echoed = true;
        done++;
        s.end();
      });
      s.on('close', () => resolve(echoed));
      s.on('error', () => undefined);
    });
  const loops = Array.from({ length: n }, async () => {
    // A refused connection must not become a busy loop of reconnects.
    while (!stopped) if (!(await exchange())) await sleep(20);
  });
  return {
    completed: () => done,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
      return done;
    },
  };
}

/**
 * `n` clients, each in turn: a new connection, one `GET path` (HTTP/1.0: the server closes), read to the end, pause
 * `pauseMs`. Each exchange takes about a millisecond on loopback: far shorter than any sampling interval.
 */
export function shortConnections(port: number, n: number, pauseMs: number, path = '/'): Load {
  let done = 0;
  const exchange = () =>
    new Promise<boolean>((resolve) => {
      let answered = false;
      const s = net.connect(port, '127.0.0.1', () => s.write(`GET ${path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n`));
      s.on('data', (b: Buffer) => {
        if (!answered && b.toString('latin1').startsWith('HTTP/1.')) done++;
        answered = true;
      });
      s.on('close', () => resolve(answered));
      s.on('error', () => undefined);
    });
  return loopedLoad(n, pauseMs, exchange, () => done);
}

const CLI = join(import.meta.dirname, '../../../dist/src/cli.js');

/** `srvlens attach ARGS` from the built CLI (`kernel`: with its kernel tracer); resolves with its exit code and output whatever the code. */
export async function attachCli(args: string[], kernel = false): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    // The /proc tests leave the kernel tracer out: its start (a second or more) would shift their windows.
    const env = { ...process.env, SRVLENS_KERNEL: kernel ? 'on' : 'off' };
    const r = await promisify(execFile)(process.execPath, [CLI, 'attach', ...(kernel ? [] : ['--no-kernel']), ...args], { timeout: 30_000, env });
    return { code: 0, ...r };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** `conns` keep-alive HTTP connections, each sending a request, waiting `pauseMs` after each response. */
export function keepAliveLoad(port: number, conns: number, pauseMs: number): Load {
  const agent = new http.Agent({ keepAlive: true, maxSockets: conns });
  let done = 0;
  const get = () =>
    new Promise<boolean>((resolve) => {
      http
        .get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
          res.resume();
          res.on('end', () => {
            done++;
            resolve(true);
          });
        })
        .on('error', () => resolve(true));
    });
  return loopedLoad(conns, pauseMs, get, () => done, () => agent.destroy());
}

/**
 * `n` loops, each running `exchange` then pausing `pauseMs` (and 20 ms more after an exchange that got no answer,
 * so a server that refuses is not hammered), until stopped.
 */
function loopedLoad(n: number, pauseMs: number, exchange: () => Promise<boolean>, done: () => number, cleanUp = () => undefined as void): Load {
  let stopped = false;
  const loops = Array.from({ length: n }, async () => {
    while (!stopped) {
      if (!(await exchange())) await sleep(20);
      await sleep(pauseMs);
    }
  });
  return {
    completed: done,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
      cleanUp();
      return done();
    },
  };
}

/** Opens `n` connections and resolves once the kernel has completed each handshake. */
export async function openConnections(port: number, n: number): Promise<net.Socket[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const s = net.connect(port, '127.0.0.1');
      await once(s, 'connect');
      return s;
    }),
  );
}
