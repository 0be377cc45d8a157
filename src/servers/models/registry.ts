/**
 * The reference models by id: what `srvlens serve --model ID` and the scenario runner start. A new model is an id
 * in the vocabulary, one file exporting a start function, and one entry here (the compiler asks for it).
 */
import type { ModelId } from '../../vocabulary/model-ids.js';
import { ServerConfigError } from '../errors.js';
import { requireAddon } from '../native.js';
import { startEventLoopServer } from './event-loop.js';
import { startEventLoopPerCoreServer } from './event-loop-per-core.js';
import { startEventLoopRawServer } from './event-loop-raw.js';
import { startForkPerConnectionServer } from './fork-per-connection.js';
import { startHybridServer } from './hybrid.js';
import { startIterativeServer } from './iterative.js';
import type { ModelEntry } from './model-server.js';
import { startPreforkServer } from './prefork.js';
import { startThreadPerConnectionServer } from './thread-per-connection.js';
import { startThreadPoolServer } from './thread-pool.js';

/** In the order `srvlens serve --help` lists them. */
export const MODELS: Readonly<Record<ModelId, ModelEntry>> = {
  'event-loop': {
    id: 'event-loop',
    summary: 'one thread, one node:http event loop, async backend client',
    needsAddon: false,
    start: startEventLoopServer,
  },
  'event-loop-raw': {
    id: 'event-loop-raw',
    summary: 'one thread on raw net with our own incremental HTTP parser, a hand-written state machine per connection',
    needsAddon: false,
    start: startEventLoopRawServer,
  },
  'event-loop-per-core': {
    id: 'event-loop-per-core',
    summary: 'size processes (default: one per CPU) of the event-loop model under node:cluster; policy none (default) or rr',
    needsAddon: false,
    start: startEventLoopPerCoreServer,
  },
  hybrid: {
    id: 'hybrid',
    summary: 'a node:http event loop handing its CPU stages to size threads (default 2) of worker threads (AMPED)',
    needsAddon: false,
    start: startHybridServer,
  },
  iterative: {
    id: 'iterative',
    summary: 'one thread accepts one connection, serves it to the end (blocking), then the next',
    needsAddon: true,
    start: startIterativeServer,
  },
  'thread-pool': {
    id: 'thread-pool',
    summary: 'size threads (default 8) made up front, all blocking in accept; one connection at a time each',
    needsAddon: true,
    start: startThreadPoolServer,
  },
  'thread-per-connection': {
    id: 'thread-per-connection',
    summary: 'an acceptor starts a new thread per connection, up to size max_threads (default 64)',
    needsAddon: true,
    start: startThreadPerConnectionServer,
  },
  prefork: {
    id: 'prefork',
    summary: 'size processes (default 4) made up front, each blocking in accept (Apache prefork)',
    needsAddon: true,
    start: startPreforkServer,
  },
  'fork-per-connection': {
    id: 'fork-per-connection',
    summary: 'a new process per connection, up to size max_processes (default 32)',
    needsAddon: true,
    start: startForkPerConnectionServer,
  },
};

/** Throws ServerConfigError listing the known ids when `id` is not one of them. */
export function getModel(id: string): ModelEntry {
  const entry = Object.hasOwn(MODELS, id) ? MODELS[id as ModelId] : undefined;
  if (entry === undefined) {
    throw new ServerConfigError(`unknown server model '${id}'; known models: ${Object.keys(MODELS).join(', ')}`);
  }
  return entry;
}

/**
 * Throws AddonUnavailableError (exit 2, the fix in its message) where one of `ids` needs the native addon and it
 * does not load; before anything starts, so that nothing half-starts. Other ids (`external`, a typo) pass.
 */
export function requireAddonFor(ids: readonly string[]): void {
  const needing = [...new Set(ids)].filter((id) => Object.hasOwn(MODELS, id) && MODELS[id as ModelId].needsAddon);
  if (needing.length === 0) return;
  const models = needing.length === 1 ? `the ${needing[0]} model needs` : `the ${needing.join(', ')} models need`;
  requireAddon(models);
}
