/**
 * The backend tier as a process: forked by the scenario runner (config in SRVLENS_BACKEND_CONFIG, intervals sent
 * over IPC), or run by hand through `srvlens backend`.
 */
import { type BackendOptions, startBackend } from './backend.js';
import {
  BACKEND_CONFIG_ENV,
  exitWithoutParent,
  isEntryPoint,
  runForkedChild,
  sendToParent,
} from '../child-entry.js';
import { ServerConfigError } from '../errors.js';
import { type LatencySpec, parseLatencyFlag } from './latency.js';

/** The JSON in SRVLENS_BACKEND_CONFIG: startBackend's options without callbacks. */
export type BackendConfig = Omit<BackendOptions, 'onInterval'>;

export const BACKEND_PROCESS_TITLE = 'srvlens-backend';

export interface BackendCommandOptions {
  host?: string;
  port?: number;
  /** A flag value ('fixed:5') or a spec. */
  latency: string | LatencySpec;
  limit: number;
  intervalMs?: number;
  seed?: number;
}

/** `srvlens backend`: listens until `stopped` resolves, then closes. Throws ServerConfigError on bad options. */
export async function runBackendCommand(opts: BackendCommandOptions, stopped: Promise<unknown>): Promise<void> {
  const latency = typeof opts.latency === 'string' ? parseLatencyFlag(opts.latency) : opts.latency;
  if (!Number.isInteger(opts.limit) || opts.limit < 1) {
    throw new ServerConfigError(`--limit must be an integer >= 1, got ${opts.limit}`);
  }
  const host = opts.host ?? '127.0.0.1';
  const backend = await startBackend({ ...opts, host, latency });
  process.title = BACKEND_PROCESS_TITLE;
  process.stdout.write(`backend listening on ${host}:${backend.port}\n`);
  await stopped;
  await backend.close();
}

if (isEntryPoint(import.meta.url)) {
  if (process.send === undefined) exitWithoutParent('srvlens backend --port N --latency fixed:5 --limit 64');
  process.title = BACKEND_PROCESS_TITLE;
  // The process's CPU since the last interval sent: the backend shares the cores, so what gave out can count it.
  let cpu = process.cpuUsage();
  await runForkedChild<BackendConfig>(BACKEND_CONFIG_ENV, (config) =>
    startBackend({
      ...config,
      onInterval: (index, data) => {
        const used = process.cpuUsage(cpu);
        cpu = process.cpuUsage();
        void sendToParent({ type: 'interval', index, data: { ...data, cpu_ms: (used.user + used.system) / 1000 } });
      },
    }),
  );
}
