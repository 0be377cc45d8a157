/**
 * als-cost's preload: what the agent does to attribute outgoing calls (agents/node/outgoing-calls.ts), without the
 * rest of the agent, in one of two modes (ALS_COST_MODE):
 *
 * - `toggle`: an AsyncLocalStorage entered at each request's start, as the agent does, switched on and off by the
 *   bench over IPC (AlsToggle). Off, the storage is disabled, and with no storage left Node takes its hook away: the
 *   app runs as if it never had one. Each toggle answers the totals so far (CPU, requests, calls, and calls made with
 *   the store in context), so the bench compares windows of one process, on and off, back to back.
 * - `count`: no storage; counts the async resources the app creates, by type (a storage's init hook runs for each),
 *   and the promise reactions that run (Node then tracks the execution resource across each). The counting hooks
 *   cost like a storage's, so that run counts and is not timed.
 */
import { AsyncLocalStorage, createHook, executionAsyncResource } from 'node:async_hooks';
import dc from 'node:diagnostics_channel';
import { ALS_COUNT_QUERY, type AlsCountReport, type AlsToggle, type AlsWindowReport } from './ipc.js';

const storage = new AsyncLocalStorage<object>();
let on = false;
let requests = 0;
let calls = 0;
let inRequest = 0;

// Called in the same synchronous run as the 'request' event, as the agent's subscriber is: the store is set on the
// async resource that runs the handler, and Node copies it into every async resource the handler creates.
dc.subscribe('http.server.request.start', (message) => {
  requests++;
  if (on) storage.enterWith((message as { response: object }).response);
});

const onCall = (): void => {
  calls++;
  if (storage.getStore() !== undefined) inRequest++;
};
dc.subscribe('http.client.request.start', onCall);
dc.subscribe('undici:request:create', onCall);

const resources: Record<string, number> = {};
let promiseReactions = 0;
if (process.env.ALS_COST_MODE === 'count') {
  createHook({
    init(_id, type) {
      resources[type] = (resources[type] ?? 0) + 1;
    },
    before() {
      if (executionAsyncResource() instanceof Promise) promiseReactions++;
    },
  }).enable();
}

const send = (m: AlsWindowReport | AlsCountReport): void => {
  if (process.connected) process.send?.(m);
};

process.on('message', (m: AlsToggle | { type?: string }) => {
  if (m?.type === ALS_COUNT_QUERY) send({ type: 'als-cost-count', calls, resources, promiseReactions });
  if (m?.type !== 'als-cost-toggle') return;
  const cpu = process.cpuUsage();
  send({ type: 'als-cost-window', cpuUs: cpu.user + cpu.system, requests, calls, inRequest });
  on = (m as AlsToggle).on;
  if (!on) storage.disable();
});
