/**
 * External servers: a scenario server given as a command instead of a model. srvlens starts it through a keeper
 * (external-keeper.ts) in a process group of its own, with the Node agent preloaded when asked, waits until it is
 * ready, and finds the process that listens on its port for /proc to watch. The runner then drives the load at it
 * and stops it like its other children.
 */
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../../vocabulary/errors.js';
import type { ChildSet, ChildMessage, ManagedChild } from '../children.js';
import { HOST, httpAnswers, listenerPid, tcpAccepts } from './ready.js';
import { ENTRY, PACKAGE_ROOT } from '../../vocabulary/package-paths.js';
import type { KeeperConfig } from './keeper.js';
import type { ScenarioServer } from '../schema.js';

const KEEPER_ENTRY = join(PACKAGE_ROOT, 'dist/src/scenario/external/keeper.js');

/** After SIGTERM, how long the server's group has to end before SIGKILL, ms (the schema's description says 3 s). */
export const EXTERNAL_STOP_GRACE_MS = 3000;
const READY_POLL_MS = 100;
/** Lines of the server's stderr shown when it fails to start: enough for a traceback's end, not a screenful. */
const STDERR_LINES = 15;

/** An external server with every default filled in. */
export interface ExternalServer {
  name: string;
  command: string | string[];
  port: number;
  /** The path a GET must get any response on; null: a connection that succeeds is enough. */
  readyHttp: string | null;
  readyTimeoutMs: number;
  cwd: string | undefined;
  env: Record<string, string>;
  agent: 'none' | 'node';
}

/** The server's external settings, or null for a reference server. */
export function externalServer(server: ScenarioServer): ExternalServer | null {
  if (server.command === undefined) return null;
  return {
    name: server.name,
    command: server.command,
    // The schema requires a port with a command.
    port: server.port!,
    readyHttp: server.ready?.http ?? null,
    readyTimeoutMs: (server.ready?.timeout_s ?? 10) * 1000,
    cwd: server.cwd,
    env: Object.fromEntries(Object.entries(server.env ?? {}).map(([k, v]) => [k, String(v)])),
    agent: server.agent ?? 'none',
  };
}

const withPort = (text: string, port: number) => text.replaceAll('{port}', String(port));

/** A command line runs as `sh -c LINE`; a list runs as is, its first item the program. {port} is replaced in both. */
export function commandArgv(command: string | string[], port: number): { file: string; args: string[] } {
  if (typeof command === 'string') return { file: 'sh', args: ['-c', withPort(command, port)] };
  const [file, ...args] = command.map((a) => withPort(a, port));
  return { file, args };
}

/**
 * The command's environment: srvlens's own, the scenario's additions, PORT, and with the Node agent its preload and
 * the SRVLENS_* variables the reference servers get (`agentEnv`).
 */
export function commandEnv(server: ExternalServer, agentEnv: Record<string, string> | null): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  for (const [k, v] of Object.entries(server.env)) env[k] = withPort(v, server.port);
  env.PORT = String(server.port);
  if (server.agent === 'node' && agentEnv) {
    Object.assign(env, agentEnv);
    // Added to what the app's own NODE_OPTIONS say. A file URL: --import reads it the same from any cwd, and it
    // has no spaces to quote.
    env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --import ${ENTRY.agent}`.trim();
  }
  return env;
}

export interface StartedExternal {
  keeper: ManagedChild;
  /** The process /proc watches: the one listening on the port, else the command's own. */
  pid: number;
  /** Said to the user when the listener could not be found under the command. */
  note: string | null;
}

/** Starts the server and resolves once it is ready; throws a UserError saying why when it does not get there. */
export async function startExternal(
  server: ExternalServer,
  children: ChildSet,
  agentEnv: Record<string, string> | null,
  abort: Promise<never>,
): Promise<StartedExternal> {
  const who = `server '${server.name}'`;
  if (server.cwd !== undefined && !isDirectory(server.cwd)) {
    throw new UserError(`${who}: cwd ${server.cwd} is not a directory (looked for ${resolve(server.cwd)})`);
  }
  if (await tcpAccepts(server.port)) {
    throw new UserError(
      `${who}: something already accepts connections on ${HOST}:${server.port} before its command has started; srvlens would measure that instead: stop it or give another port`,
    );
  }
  const config: KeeperConfig = { ...commandArgv(server.command, server.port), cwd: server.cwd, env: commandEnv(server, agentEnv), graceMs: EXTERNAL_STOP_GRACE_MS };
  const keeper = children.fork(`server ${server.name}`, KEEPER_ENTRY, {
    env: { SRVLENS_EXTERNAL_CONFIG: JSON.stringify(config) },
    // The keeper's own stop takes the server's grace; its SIGKILL must not cut that short.
    stopGraceMs: EXTERNAL_STOP_GRACE_MS + 2000,
  });
  let exited: ChildMessage | null = null;
  keeper.on('exited', (m) => (exited = m));
  const failed = (what: string) => {
    const tail = keeper.stderrLines(STDERR_LINES);
    return new UserError(`${who}: ${what}${tail ? `; the end of its stderr:\n${tail}` : ' (nothing on its stderr)'}`, 'EXTERNAL_SERVER_NOT_READY');
  };

  const spawned = await Promise.race([keeper.waitFor('spawned', 10_000), abort]).catch((err: Error) => {
    throw exited ? failed(`its command could not start: ${String(exited.error ?? err.message)}`) : err;
  });
  const leader = spawned.pid as number;
  keeper.processGroup = leader;

  const ready = server.readyHttp === null ? () => tcpAccepts(server.port) : () => httpAnswers(server.port, server.readyHttp!);
  const deadline = performance.now() + server.readyTimeoutMs;
  for (;;) {
    if (exited || !keeper.alive) throw failed(`its command exited (${exited ? exitText(exited) : 'its keeper is gone'}) before it was ready`);
    if (await Promise.race([ready(), abort])) break;
    if (performance.now() >= deadline) {
      const probe = server.readyHttp === null ? `no connection accepted on ${HOST}:${server.port}` : `no HTTP response to GET ${server.readyHttp} on ${HOST}:${server.port}`;
      throw failed(`not ready within ${server.readyTimeoutMs / 1000} s (${probe})`);
    }
    await Promise.race([new Promise((r) => setTimeout(r, READY_POLL_MS)), abort]);
  }

  const pid = listenerPid(leader, server.port);
  return {
    keeper,
    pid: pid ?? leader,
    note:
      pid === null
        ? `${server.name}: no process started by its command listens on port ${server.port}: /proc watches the command's own process (PID ${leader}), whose figures may not be the server's`
        : null,
  };
}

function exitText(m: ChildMessage): string {
  if (m.error) return String(m.error);
  return m.signal ? `signal ${String(m.signal)}` : `code ${String(m.code)}`;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
