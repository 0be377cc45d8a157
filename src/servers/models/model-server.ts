/**
 * What every reference model is to the rest of srvlens: the options it starts with, the server it gives back, and
 * the entry the registry lists it under. Apart from the registry so that a model needs only these, not the list of
 * all models.
 */
import type { ModelId } from '../../vocabulary/model-ids.js';
import type { WorkloadParams } from '../../vocabulary/workload-params.js';
import type { BackendAddress } from '../backend/backend-client.js';

export interface ModelServerOptions {
  host?: string;
  port?: number;
  /** Missing fields take DEFAULT_WORKLOAD's values. */
  workload?: Partial<WorkloadParams>;
  backend: BackendAddress;
  /** The model's size (threads, processes) for models that have one; the event loop has none. */
  size?: Record<string, number>;
  /** The model's scheduling policy, for models that have a choice (event-loop-per-core: 'none' | 'rr'). */
  policy?: string;
}

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

export interface ModelEntry {
  id: ModelId;
  /** One line for `--help` and listings. */
  summary: string;
  /** Its contexts block in the kernel through the native addon (native.ts): it cannot start where that does not load. */
  needsAddon: boolean;
  start(opts: ModelServerOptions): Promise<RunningServer>;
}

/** The process title a model's server runs under, so /proc sampling and `ps` can name its role. */
export function modelProcessTitle(id: ModelId): string {
  return `srvlens-server:${id}`;
}
