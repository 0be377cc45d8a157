/**
 * `node --import srvlens/agent app.js`: runs before the app in every thread the preload reaches. The main thread
 * starts the agent (its recorder and the agent thread); a worker thread starts a recorder for itself, which the
 * agent thread finds through the registry channel. Any failure to start is reported once on stderr and the app runs
 * on unobserved: the agent never breaks its host.
 */
import { isMainThread, threadId, workerData } from 'node:worker_threads';
import { readConfig } from './config.js';
import { startAgent } from './agent.js';
import { ThreadRecorder } from './thread-recorder.js';
import { isAgentThreadData } from './thread-messages.js';

const config = readConfig();
const isAgentThread = isAgentThreadData(workerData);

if (!config.disabled && !isAgentThread) {
  try {
    if (isMainThread) startAgent(config);
    else new ThreadRecorder(config.intervalMs, `worker-${threadId}`, true, config.exemplars, config.outgoingCalls).start();
  } catch (err) {
    process.stderr.write(`srvlens agent: not started: ${(err as Error).message}\n`);
  }
}
