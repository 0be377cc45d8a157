/**
 * The reference models by id: what `srvlens serve --model ID` and the scenario runner start. A new model is an id
 * in the vocabulary, one file exporting a start function, and one entry here (the compiler asks for it).
 */
import type { ModelId } from '../../vocabulary/model-ids.js';
import { ServerConfigError } from '../errors.js';
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
    start: startEventLoopServer,
  },
  'event-loop-raw': {
    id: 'event-loop-raw',
    summary: 'one thread on raw net with our own incremental HTTP parser, a hand-written state machine per connection',
    start: startEventLoopRawServer,
  },
  'event-loop-per-core': {
    id: 'event-loop-per-core',
    summary: 'size processes (default: one per CPU) of the event-loop model under node:cluster; policy none (default) or rr',
    start: startEventLoopPerCoreServer,
  },
  hybrid: {
    id: 'hybrid',
    summary: 'a node:http event loop handing its CPU stages to size threads (default 2) of worker threads (AMPED)',
    start: startHybridServer,
  },
  iterative: {
    id: 'iterative',
    summary: 'one thread accepts one connection, serves it to the end (blocking), then the next',
    start: startIterativeServer,
  },
  'thread-pool': {
    id: 'thread-pool',
    summary: 'size threads (default 8) made up front, all blocking in accept; one connection at a time each',
    start: startThreadPoolServer,
  },
  'thread-per-connection': {
    id: 'thread-per-connection',
    summary: 'an acceptor starts a new thread per connection, up to size max_threads (default 64)',
    start: startThreadPerConnectionServer,
  },
  prefork: {
    id: 'prefork',
    summary: 'size processes (default 4) made up front, each blocking in accept (Apache prefork)',
    start: startPreforkServer,
  },
  'fork-per-connection': {
    id: 'fork-per-connection',
    summary: 'a new process per connection, up to size max_processes (default 32)',
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
