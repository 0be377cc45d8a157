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
import { intervalIndex, monoMs } from '../../src/vocabulary/index.js';
import type { AgentConfig } from './config.js';
import { REGISTRY_CHANNEL, ThreadRecorder, type ThreadAnnouncement } from './thread-recorder.js';

/** The compiled agent thread beside this file (from TypeScript sources, as in tests, the one in dist/). */
function agentThreadUrl(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('../../dist/agents/node/agent-thread.js', import.meta.url)
    : new URL('./agent-thread.js', import.meta.url);
}

export interface RunningAgent {
  recorder: ThreadRecorder;
  /** Intervals the agent thread has exported so far, and errors it counted. */
  stats(): Promise<{ exported: number; errors: number; threads: number }>;
  stop(): Promise<void>;
}

export function startAgent(config: AgentConfig, threadName = 'main'): RunningAgent {
  const recorder = new ThreadRecorder(config.intervalMs, threadName, true, config.exemplars, config.outgoingCalls);
  const worker = new Worker(agentThreadUrl(), {
    workerData: { config, srvlensAgentThread: true, startIndex: intervalIndex(monoMs(), config.intervalMs) },
    // No preload in the agent's own thread: it must not observe itself as an app thread.
    execArgv: [],
    stdout: false,
    stderr: false,
  });
  worker.unref();
  worker.on('error', (err) => process.emitWarning(`srvlens agent thread failed: ${err.message}`));
  const relay = new BroadcastChannel(REGISTRY_CHANNEL);
  relay.unref();
  relay.onmessage = (e) => worker.postMessage((e as { data: ThreadAnnouncement }).data);
  recorder.hooks.flush = () =>
    new Promise<void>((resolve) => {
      const onMessage = (m: { type: string }) => {
        if (m.type !== 'flushed') return;
        worker.off('message', onMessage);
        resolve();
      };
      worker.on('message', onMessage);
      worker.postMessage({ type: 'flush' });
    });
  recorder.hooks.handOff = () => recorder.handOff();
  recorder.hooks.accept = (message) => worker.postMessage({ ...message, type: 'foreign' });
  recorder.start();
  worker.postMessage(recorder.announcement());
  return {
    recorder,
    stats: () =>
      new Promise((resolve) => {
        const onMessage = (m: { type: string; exported: number; errors: number; threads: number }) => {
          if (m.type !== 'stats') return;
          worker.off('message', onMessage);
          resolve(m);
        };
        worker.on('message', onMessage);
        worker.postMessage({ type: 'stats' });
      }),
    async stop() {
      recorder.stop();
      relay.close();
      await worker.terminate();
    },
  };
}
