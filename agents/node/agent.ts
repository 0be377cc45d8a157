/**
 * Starting the agent in a process: the main thread's recorder, and the agent thread that reads and exports.
 * Worker threads get only a recorder (see register.ts); they announce their rings on a BroadcastChannel, which
 * the main thread also relays to the agent thread in case the agent thread was not listening yet.
 *
 * It observes and never changes its host: no signal handlers, no exit, the agent thread unref'd (it never keeps
 * the host alive), every callback guarded (errors are counted and exported, never thrown into the app), a
 * bounded export queue with a drop counter.
 */
import { BroadcastChannel, Worker } from 'node:worker_threads';
import { intervalIndex, monoMs } from '../../src/vocabulary/clock.js';
import type { AgentConfig } from './config.js';
import { ThreadRecorder } from './thread-recorder.js';
import { offerToChildren } from './shared-rings.js';
import {
  announcementOf,
  isFromAgentThread,
  REGISTRY_CHANNEL,
  type AgentThreadData,
  type FromAgentThread,
  type HandOff,
  type ToAgentThread,
} from './thread-messages.js';

/** The compiled agent thread beside this file (from TypeScript sources, as in tests, the one in dist/). */
function agentThreadUrl(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('../../dist/agents/node/agent-thread.js', import.meta.url)
    : new URL('./agent-thread.js', import.meta.url);
}

export interface RunningAgent {
  recorder: ThreadRecorder;
  /** Intervals the agent thread has exported so far, and errors it counted. */
  stats(): Promise<Omit<Extract<FromAgentThread, { type: 'stats' }>, 'type'>>;
  stop(): Promise<void>;
}

/**
 * A child whose parent's agent reads its rings (shared-rings.ts): this thread's recorder alone, its ring in memory
 * the parent maps. A child that lives for one connection still hands off at its end (fork-per-connection).
 */
export function startChildRecorder(config: AgentConfig, threadName = 'main'): ThreadRecorder {
  const recorder = new ThreadRecorder(config.intervalMs, threadName, true, config.exemplars, config.outgoingCalls, true);
  recorder.hooks.handOff = () => recorder.handOff();
  recorder.start();
  return recorder;
}

export function startAgent(config: AgentConfig, threadName = 'main'): RunningAgent {
  offerToChildren(config);
  const recorder = new ThreadRecorder(config.intervalMs, threadName, true, config.exemplars, config.outgoingCalls);
  const worker = new Worker(agentThreadUrl(), {
    workerData: { config, srvlensAgentThread: true, startIndex: intervalIndex(monoMs(), config.intervalMs) } satisfies AgentThreadData,
    // No preload in the agent's own thread: it must not observe itself as an app thread.
    execArgv: [],
    stdout: false,
    stderr: false,
  });
  worker.unref();
  worker.on('error', (err) => process.emitWarning(`srvlens agent thread failed: ${err.message}`));
  const relay = new BroadcastChannel(REGISTRY_CHANNEL);
  relay.unref();
  const post = (m: ToAgentThread) => worker.postMessage(m);
  relay.onmessage = (e) => {
    const announcement = announcementOf(e);
    if (announcement) post(announcement);
  };
  recorder.hooks.flush = () =>
    new Promise<void>((resolve) => {
      const onMessage = (m: unknown) => {
        if (!isFromAgentThread(m) || m.type !== 'flushed') return;
        worker.off('message', onMessage);
        resolve();
      };
      worker.on('message', onMessage);
      post({ type: 'flush' });
    });
  recorder.hooks.handOff = () => recorder.handOff();
  // A hand-off comes only from a child's agent (ThreadRecorder.handOff), built from this source: acceptHandOff has
  // checked its tag, and AgentHooks.accept, a method, lets this hook take it as the HandOff it is.
  recorder.hooks.accept = (message: HandOff) => post({ ...message, type: 'foreign' });
  recorder.hooks.adopt = (pid, name) => post({ type: 'adopt', pid, name, atMs: monoMs() });
  recorder.start();
  post(recorder.announcement());
  return {
    recorder,
    stats: () =>
      new Promise((resolve) => {
        const onMessage = (m: unknown) => {
          if (!isFromAgentThread(m) || m.type !== 'stats') return;
          worker.off('message', onMessage);
          resolve(m);
        };
        worker.on('message', onMessage);
        post({ type: 'stats' });
      }),
    async stop() {
      recorder.stop();
      relay.close();
      await worker.terminate();
    },
  };
}
