/**
 * One generator thread of a run spread over several (threads.ts starts it with its config and share). It connects,
 * says `ready`, starts on the boundary the coordinator names in `go`, posts each interval, and `done` at the end.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { GeneratorConfig } from './config.js';
import { startRun } from './thread-run.js';
import type { Share } from './arrivals/plan.js';
import type { FromThread, ToThread } from './threads.js';

const port = parentPort!;
const { config, share } = workerData as { config: GeneratorConfig; share: Share };
const controller = new AbortController();
const post = (m: FromThread) => port.postMessage(m);

const { run, done } = startRun(config, {
  share,
  signal: controller.signal,
  ready: () => post({ type: 'ready' }),
  onInterval: (index, _t, data) => post({ type: 'interval', index, data }),
});
port.on('message', (m: ToThread) => {
  if (m.type === 'go') run.go(m.first_index);
  else if (m.type === 'stop') controller.abort();
});
void done.then((summary) => {
  post({ type: 'done', summary });
  port.close();
});
