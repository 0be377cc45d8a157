/**
 * A reference server as a process: forked by the scenario runner (config in SRVLENS_SERVE_CONFIG), or run by hand
 * through `srvlens serve --model ID`. The process is titled by its model so /proc sampling and `ps` can tell it.
 */
import {
  exitWithoutParent,
  isEntryPoint,
  runForkedChild,
  SERVE_CONFIG_ENV,
} from './child-entry.js';
import { type ModelServerOptions, modelProcessTitle, type RunningServer } from './models/model-server.js';
import { getModel } from './models/registry.js';
import { pinToCores } from './pin-cores.js';

/** The JSON in SRVLENS_SERVE_CONFIG, and the options of `srvlens serve`. */
export interface ServeConfig extends ModelServerOptions {
  model: string;
  /** Pin the server to its first N CPUs before it makes any context (pin-cores.ts); absent: every CPU. */
  cores?: number;
}

async function startModel(config: ServeConfig): Promise<RunningServer> {
  const model = getModel(config.model);
  if (config.cores !== undefined) pinToCores(process.pid, config.cores);
  process.title = modelProcessTitle(model.id);
  return model.start(config);
}

/** `srvlens serve`: serves until `stopped` resolves, then closes. Throws ServerConfigError on bad options. */
export async function runServeCommand(opts: ServeConfig, stopped: Promise<unknown>): Promise<void> {
  const host = opts.host ?? '127.0.0.1';
  const server = await startModel({ ...opts, host });
  process.stdout.write(`${opts.model} server listening on ${host}:${server.port}\n`);
  await stopped;
  await server.close();
}

if (isEntryPoint(import.meta.url)) {
  if (process.send === undefined) exitWithoutParent('srvlens serve --model event-loop --backend-port N');
  await runForkedChild<ServeConfig>(SERVE_CONFIG_ENV, startModel);
}
