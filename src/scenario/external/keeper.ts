/**
 * The keeper of an external server: a small child of the runner (forked with an IPC channel, like the backend and the
 * generator) that starts the server's command in a process group of its own and ends that whole group when told to,
 * when the runner goes (its channel closes, even after the runner was SIGKILLed) or when the server dies. The group is
 * what makes the server's own children (a shell's, a prefork master's workers) go with it; the keeper is what makes
 * it go even when the runner could not stop it itself.
 *
 * Messages to the runner: {type: 'spawned', pid} (the group's leader), {type: 'exited', code, signal, error}.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

export interface KeeperConfig {
  file: string;
  args: string[];
  cwd?: string;
  env: Record<string, string>;
  /** How long the group has after SIGTERM before SIGKILL, ms. */
  graceMs: number;
}

/** After SIGKILL, how long to wait for the group to be gone before leaving anyway (zombies nobody reaps). */
const AFTER_KILL_MS = 1000;
const POLL_MS = 20;

const config = JSON.parse(process.env.SRVLENS_EXTERNAL_CONFIG ?? '{}') as KeeperConfig;
/** Resolves once the message is handed over, so that exiting right after does not lose it. */
const send = (m: Record<string, unknown>) =>
  new Promise<void>((resolve) => (process.connected && process.send ? process.send(m, () => resolve()) : resolve()));

// stdout and stderr are the keeper's own, which the runner reads (the end of stderr goes into its error messages).
const child = spawn(config.file, config.args, { cwd: config.cwd, env: config.env, detached: true, stdio: ['ignore', 'inherit', 'inherit'] });
child.once('spawn', () => void send({ type: 'spawned', pid: child.pid }));
child.once('error', (err) => {
  // Never spawned (no such program): there is no group to end.
  void send({ type: 'exited', code: null, signal: null, error: err.message }).then(() => process.exit(0));
});
child.once('exit', (code, signal) => {
  // The leader is gone; whatever it started in its group goes too.
  void send({ type: 'exited', code, signal, error: null }).then(stopGroup);
});

/** Whether any process of the group is left (a zombie counts until it is reaped). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

async function waitGone(pgid: number, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (groupAlive(pgid) && performance.now() < end) await sleep(POLL_MS);
  return !groupAlive(pgid);
}

let stopping = false;
async function stopGroup(): Promise<void> {
  if (stopping) return;
  stopping = true;
  const pgid = child.pid;
  if (pgid !== undefined && groupAlive(pgid)) {
    signalGroup(pgid, 'SIGTERM');
    if (!(await waitGone(pgid, config.graceMs))) {
      signalGroup(pgid, 'SIGKILL');
      await waitGone(pgid, AFTER_KILL_MS);
    }
  }
  process.exit(0);
}

process.on('SIGTERM', () => void stopGroup());
process.on('disconnect', () => void stopGroup());
process.on('message', (m: { type?: string }) => m?.type === 'stop' && void stopGroup());
// Ctrl-C in a terminal reaches the whole foreground group, the keeper too: the runner decides what happens then (it
// stops every child), and a keeper that died of it would leave the server running.
process.on('SIGINT', () => undefined);
