/**
 * What the agent's AsyncLocalStorage costs an app that makes outgoing calls, apart from the rest of the agent: the
 * plain app and upstream of agent-overhead's plain-app model (apps/plain-app.ts, apps/plain-upstream.ts), with a preload
 * (als/preload.ts) that enters a storage at each request's start as the agent does, and nothing else.
 *
 * Separate processes per variant differ by more than a storage on a shared VM (the agent-overhead bench's rounds
 * move by tens of per cent), so one app process runs under a steady load while the bench switches its storage off
 * and on in alternating windows, and compares the app's own CPU per request (process.cpuUsage, µs) within each pair
 * of adjacent windows. Beside it, an estimate from steadier figures: what a storage adds to a new promise and to an
 * await, timed in this process, times the async resources and promise reactions the app has per request (counted in
 * one more, untimed, run per client).
 *
 *   npm run build && node dist/bench/als-cost.js [--client http|fetch|all] [--pairs 10] [--window 2] [--json]
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { ChildSet, type ManagedChild } from '../src/scenario/children.js';
import { hostFacts } from '../src/scenario/run/host-facts.js';
import { CLIENTS, formatReport, suiteFigures, type Client, type ClientResult, type Counts, type PromiseCost, type Window } from './als/report.js';
import { benchFile } from './child-entries.js';
import { ALS_COUNT_QUERY, type AlsCountReport, type AlsToggle, type AlsWindowReport } from './als/ipc.js';
import { median } from './overhead/summary.js';
import { UPSTREAM, UPSTREAM_CONFIG_ENV } from './overhead/workloads.js';
import { benchArgs, usageExit } from './cli.js';

/** As agent-overhead's plain-app model (overhead/models.ts, overhead/workloads.ts). */
const CONNECTIONS = 50;
const RESPONSE_BYTES = 64;
const WARMUP_SECONDS = 1;
const TIMEOUT_MS = 15_000;
/** Promises per timing, and timings each way (alternating, so a drift hits both). */
const PROMISES = 1_000_000;
const PROMISE_REPEATS = 9;
/** The untimed run that counts the app's async resources per request. */
const COUNT_SECONDS = 2;

const USAGE = 'usage: node dist/bench/als-cost.js [--client http|fetch|all] [--pairs N>=1] [--window S>=1] [--json]';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function options(): { clients: Client[]; pairs: number; windowSeconds: number; json: boolean } {
  const usage = (why: string): never => usageExit('als-cost', USAGE, why);
  const values = benchArgs('als-cost', USAGE, { client: { type: 'string' }, pairs: { type: 'string' }, window: { type: 'string' }, json: { type: 'boolean' } });
  const client = values.client ?? 'all';
  if (client !== 'all' && !(CLIENTS as readonly string[]).includes(client)) usage(`--client must be http, fetch or all, got '${client}'`);
  const int = (flag: string, raw: string | undefined, fallback: number): number => {
    const n = Number(raw ?? fallback);
    return Number.isInteger(n) && n >= 1 ? n : usage(`--${flag} must be an integer >= 1, got '${raw}'`);
  };
  return {
    clients: client === 'all' ? [...CLIENTS] : [client as Client],
    pairs: int('pairs', values.pairs, 10),
    windowSeconds: int('window', values.window, 2),
    json: values.json ?? false,
  };
}

/**
 * What a storage adds to a new promise and to an await, ns, from alternating timings (medians). Run before anything
 * else in this process, so nothing else runs meanwhile.
 */
async function measurePromises(): Promise<PromiseCost> {
  const storage = new AsyncLocalStorage<object>();
  let sink: unknown;
  const create = (): number => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < PROMISES; i++) sink = Promise.resolve(i);
    return Number(process.hrtime.bigint() - t0) / PROMISES;
  };
  const settled = Promise.resolve();
  // An await of a settled promise makes no promise of ours, but with the hooks on V8 makes one for the await, and
  // the resumption is a promise reaction, which Node then wraps in before/after hooks.
  const wait = async (): Promise<number> => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < PROMISES; i++) await settled;
    return Number(process.hrtime.bigint() - t0) / PROMISES;
  };
  const timings = async (f: () => number | Promise<number>) => {
    await f(); // the JIT's turn
    const without: number[] = [];
    const withStore: number[] = [];
    for (let r = 0; r < PROMISE_REPEATS; r++) {
      without.push(await f());
      // run() enables the storage's hook, which stays on until disable(): everything made meanwhile pays it.
      withStore.push(await storage.run({}, f));
      storage.disable();
    }
    void sink;
    return { without: median(without), with: median(withStore) };
  };
  return { create: await timings(create), await: await timings(wait) };
}

class Rig {
  readonly children = new ChildSet();
  /** Errors, timeouts and non-2xx responses of the loads so far: the app's answers, or the figures mean nothing. */
  loadErrors = 0;
  private upstreamUrl = '';

  async start(): Promise<void> {
    const upstream = this.children.fork('upstream', benchFile('apps/plain-upstream.js'), { env: { [UPSTREAM_CONFIG_ENV]: JSON.stringify(UPSTREAM) } });
    this.upstreamUrl = `http://127.0.0.1:${(await upstream.waitFor('ready', TIMEOUT_MS)).port}/`;
  }

  /** The plain app with the preload in `mode`, under load from its start until `during` is done. */
  async underLoad<T>(client: Client, mode: 'toggle' | 'count', during: (app: ManagedChild) => Promise<T>): Promise<T> {
    const app = this.children.fork(`plain app (${mode})`, benchFile('apps/plain-app.js'), {
      execArgv: ['--import', pathToFileURL(benchFile('als/preload.js')).href],
      env: { ALS_COST_MODE: mode, PLAIN_APP_UPSTREAM: this.upstreamUrl, PLAIN_APP_CLIENT: client, PLAIN_APP_RESPONSE_BYTES: String(RESPONSE_BYTES) },
    });
    let load: autocannon.Instance | null = null;
    let finished = (): void => {};
    const done = new Promise<void>((resolve) => (finished = resolve));
    try {
      const ready = await app.waitFor('ready', TIMEOUT_MS);
      // Longer than any run: stopped when `during` is done.
      load = autocannon({ url: `http://127.0.0.1:${ready.port}/`, connections: CONNECTIONS, duration: 3600 }, (err, r) => {
        this.loadErrors += err ? 1 : r.errors + r.timeouts + r.non2xx;
        finished();
      });
      await sleep(WARMUP_SECONDS * 1000);
      return await during(app);
    } finally {
      if (load !== null) {
        load.stop();
        await done;
      }
      await app.stop();
    }
  }

  /** `pairs` pairs of windows, (off, on), (on, off), ...: the storage's state at each window's start. */
  toggled(client: Client, pairs: number, windowSeconds: number): Promise<Window[]> {
    const states = Array.from({ length: pairs }, (_, i) => (i % 2 === 0 ? [false, true] : [true, false])).flat();
    return this.underLoad(client, 'toggle', async (app) => {
      const toggle = async (on: boolean): Promise<{ report: AlsWindowReport; at: number }> => {
        const answer = app.waitFor('als-cost-window', TIMEOUT_MS);
        app.send({ type: 'als-cost-toggle', on } satisfies AlsToggle);
        return { report: (await answer) as unknown as AlsWindowReport, at: performance.now() };
      };
      const windows: Window[] = [];
      let start = await toggle(states[0]);
      for (let i = 0; i < states.length; i++) {
        await sleep(windowSeconds * 1000);
        const end = await toggle(i + 1 < states.length ? states[i + 1] : false);
        const d = (f: (r: AlsWindowReport) => number) => f(end.report) - f(start.report);
        windows.push({
          on: states[i],
          seconds: (end.at - start.at) / 1000,
          cpuUs: d((r) => r.cpuUs),
          requests: d((r) => r.requests),
          calls: d((r) => r.calls),
          inRequest: d((r) => r.inRequest),
        });
        start = end;
      }
      return windows;
    });
  }

  /** Async resources and promise reactions per request: one untimed run under counting hooks. */
  counted(client: Client): Promise<Counts> {
    return this.underLoad(client, 'count', async (app) => {
      await sleep(COUNT_SECONDS * 1000);
      const answer = app.waitFor('als-cost-count', TIMEOUT_MS);
      app.send({ type: ALS_COUNT_QUERY });
      const { calls, resources, promiseReactions } = (await answer) as unknown as AlsCountReport;
      // One outgoing call per request; the app's start and the requests in flight are within the rounding.
      const n = Math.max(1, calls);
      return { byType: Object.fromEntries(Object.entries(resources).map(([type, count]) => [type, count / n])), promiseReactions: promiseReactions / n };
    });
  }
}

async function main(): Promise<void> {
  const { clients, pairs, windowSeconds, json } = options();
  const cost = await measurePromises(); // first: nothing else runs in this process yet
  const host = await hostFacts();
  const rig = new Rig();
  process.on('exit', () => rig.children.killAllNow());
  process.on('SIGINT', () => process.exit(130));
  const results: ClientResult[] = [];
  try {
    await rig.start();
    for (const client of clients) {
      process.stderr.write(`[${client}] ${pairs} pairs of ${windowSeconds} s windows, then the counting run\n`);
      const before = rig.loadErrors;
      const windows = await rig.toggled(client, pairs, windowSeconds);
      const counts = await rig.counted(client);
      results.push({ client, windows, counts, loadErrors: rig.loadErrors - before });
    }
  } finally {
    await rig.children.stopAll();
  }
  const settings = {
    pairs,
    windowSeconds,
    warmupSeconds: WARMUP_SECONDS,
    connections: CONNECTIONS,
    upstreamDelayMs: UPSTREAM.delayMs,
    promisesPerTiming: PROMISES,
  };
  // --json: the suite's figures on stdout (bench/suite/specs.ts), the report on stderr.
  if (json) {
    process.stderr.write(formatReport(host, settings, results, cost));
    process.stdout.write(`${JSON.stringify({ figures: suiteFigures(results) })}\n`);
  } else process.stdout.write(formatReport(host, settings, results, cost));
}

main().catch((err) => {
  process.stderr.write(`als-cost: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
