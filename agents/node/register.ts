/**
 * `node --import srvlens/agent app.js`: runs before the app in every thread the preload reaches. The main thread
 * starts the agent (its recorder and the agent thread); a worker thread starts a recorder for itself, which the
 * agent thread finds through the registry channel. In a child whose parent's agent reads its rings, every thread
 * starts only its recorder, its ring in memory shared with the parent. Any failure to start is reported once on
 * stderr and the app runs on unobserved: the agent never breaks its host.
 */
import { isMainThread, threadId, workerData } from 'node:worker_threads';
import { readConfig } from './config.js';
import { startAgent, startChildRecorder } from './agent.js';
import { parentReadsRings } from './shared-rings.js';
import { ThreadRecorder } from './thread-recorder.js';
import { isAgentThreadData } from './thread-messages.js';

const config = readConfig();
const isAgentThread = isAgentThreadData(workerData);

if (!config.disabled && !isAgentThread) {
  try {
    // A child of a process whose agent reads its rings runs no agent thread of its own (shared-rings.ts).
    const child = parentReadsRings(config);
    if (isMainThread) {
      if (child) startChildRecorder(config);
      else startAgent(config);
    } else new ThreadRecorder(config.intervalMs, `worker-${threadId}`, true, config.exemplars, config.outgoingCalls, child).start();
  } catch (err) {
    process.stderr.write(`srvlens agent: not started: ${(err as Error).message}\n`);
  }
}
