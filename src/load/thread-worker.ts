/**
 * One generator thread of a run spread over several (threads.ts starts it with its config and share). It connects,
 * says `ready`, starts on the boundary the coordinator names in `go`, posts each interval, and `done` at the end.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { startRun } from './thread-run.js';
import { isToThread, type FromThread, type ThreadData } from './messages.js';

const port = parentPort!;
// threads.ts builds it `satisfies ThreadData`: taken for that type here, as a forked child takes its config.
const { config, share }: ThreadData = workerData;
const controller = new AbortController();
const post = (m: FromThread) => port.postMessage(m);

const { run, done } = startRun(config, {
  share,
  signal: controller.signal,
  ready: () => post({ type: 'ready' }),
  onInterval: (index, _t, data) => post({ type: 'interval', index, data }),
});
port.on('message', (m: unknown) => {
  if (!isToThread(m)) return;
  if (m.type === 'go') run.go(m.first_index);
  else if (m.type === 'stop') controller.abort();
});
void done.then((summary) => {
  post({ type: 'done', summary });
  port.close();
});
