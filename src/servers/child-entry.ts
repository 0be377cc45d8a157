/**
 * What the backend and server entries share as child processes of the scenario runner: the IPC messages (the
 * runner receives them as these types, src/scenario/run/children.ts), how config arrives, and the rule that a child
 * never outlives its runner.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BackendInterval } from '../vocabulary/frames.js';

export const BACKEND_CONFIG_ENV = 'SRVLENS_BACKEND_CONFIG';
export const SERVE_CONFIG_ENV = 'SRVLENS_SERVE_CONFIG';

export type ReadyMessage = { type: 'ready'; port: number; pid: number };
/** Startup failed (bad config, port in use); the child exits non-zero right after sending it. */
export type ErrorMessage = { type: 'error'; message: string };
export type BackendIntervalMessage = { type: 'interval'; index: number; data: BackendInterval };

export type BackendMessage = ReadyMessage | BackendIntervalMessage | ErrorMessage;
export type ServeMessage = ReadyMessage | ErrorMessage;

/** True when the module at `metaUrl` is the script node was started with (not imported by the CLI). */
export function isEntryPoint(metaUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(metaUrl));
  } catch {
    return false;
  }
}

/** Sends to the parent if it is still listening; resolves once the message is handed to the channel. */
export function sendToParent(message: BackendMessage | ServeMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

/**
 * Runs a forked child: reads its JSON config from `envName`, starts it, reports ready (or the error, then exits 1),
 * and exits when the IPC channel closes. The channel closes when the parent exits for any reason, kill -9 included,
 * so no backend or server is left behind by a crashed runner.
 */
export async function runForkedChild<Config>(
  envName: string,
  start: (config: Config) => Promise<{ port: number }>,
): Promise<void> {
  process.on('disconnect', () => process.exit(0));
  try {
    const raw = process.env[envName];
    if (raw === undefined) throw new Error(`${envName} is not set: the parent must pass the config as JSON`);
    // The runner writes the config with `satisfies Config` (runner.ts): the JSON is taken for that type here.
    const config: Config = JSON.parse(raw);
    const { port } = await start(config);
    await sendToParent({ type: 'ready', port, pid: process.pid });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // Both ways: the parent may wait for a message, or only watch the exit and show the stderr tail.
    process.stderr.write(`${message}\n`);
    await sendToParent({ type: 'error', message });
    process.exit(1);
  }
}

/** Entries started by hand without a parent get a pointer to the command they meant. */
export function exitWithoutParent(command: string): never {
  process.stderr.write(`this entry is started by the srvlens runner over IPC; to run it by hand use \`${command}\`\n`);
  process.exit(2);
}
