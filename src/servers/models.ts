/**
 * The reference models by id: what `srvlens serve --model ID` and the scenario runner start. A new model is one
 * file exporting a start function and one entry here.
 */
import type { BackendAddress } from './backend-client.js';
import { ServerConfigError } from './errors.js';
import { startEventLoopServer } from './event-loop.js';
import type { WorkloadParams } from './workload.js';

export interface ModelServerOptions {
  host?: string;
  port?: number;
  /** Missing fields take DEFAULT_WORKLOAD's values. */
  workload?: Partial<WorkloadParams>;
  backend: BackendAddress;
  /** The model's size (threads, processes) for models that have one; the event loop has none. */
  size?: Record<string, number>;
}

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

export interface ModelEntry {
  id: string;
  /** One line for `--help` and listings. */
  summary: string;
  start(opts: ModelServerOptions): Promise<RunningServer>;
}

export const MODELS: Readonly<Record<string, ModelEntry>> = {
  'event-loop': {
    id: 'event-loop',
    summary: 'one thread, one node:http event loop, async backend client',
    start: startEventLoopServer,
  },
};

export const MODEL_IDS = Object.keys(MODELS);

/** Throws ServerConfigError listing the known ids when `id` is not one of them. */
export function getModel(id: string): ModelEntry {
  const entry = Object.hasOwn(MODELS, id) ? MODELS[id] : undefined;
  if (entry === undefined) {
    throw new ServerConfigError(`unknown server model '${id}'; known models: ${MODEL_IDS.join(', ')}`);
  }
  return entry;
}

/** The process title a model's server runs under, so /proc sampling and `ps` can name its role. */
export function modelProcessTitle(id: string): string {
  return `srvlens-server:${id}`;
}
