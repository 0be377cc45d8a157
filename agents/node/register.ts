/**
 * `node --import srvlens/agent app.js`: starts the agent in the main thread before the app loads.
 * Any failure to start is reported once on stderr and the app runs on unobserved: the agent never breaks its host.
 */
import { isMainThread } from 'node:worker_threads';
import { readConfig } from './config.js';
import { NodeAgent, setActiveAgent } from './agent.js';

const config = readConfig();
// Worker threads and cluster workers get their own contexts in a later version; for now the main thread only.
if (!config.disabled && isMainThread) {
  try {
    const agent = new NodeAgent(config);
    setActiveAgent(agent);
    agent.start();
  } catch (err) {
    process.stderr.write(`srvlens agent: not started: ${(err as Error).message}\n`);
  }
}
