/**
 * What the agent's request tracker costs a request on its own, no server around it: `node dist/bench/tracker-cost.js`
 * runs begin, the five stages a reference server's request marks (parse, process, downstream, transform, send) and
 * end, N times on this thread, against the same loop with no tracker, and prints the ns of CPU a request each way
 * (best of rounds, on this process's CPU clock). With --split the thread splits requests by its schedstat as the
 * blocking models' threads do (at most one every SPLIT_GAP_MS). A microbenchmark: the lead to the hot path's cost,
 * which agent-overhead measures whole, on servers.
 */
import { RequestTracker } from '../agents/node/request-tracker.js';
import { ThreadRing } from '../agents/node/thread-ring.js';
import { ThreadSchedstat } from '../agents/node/thread-schedstat.js';
import { STAGE } from '../src/vocabulary/index.js';
import { benchArgs } from './cli.js';

const values = benchArgs('tracker-cost', 'usage: node dist/bench/tracker-cost.js [--requests N] [--rounds N] [--split]', {
  requests: { type: 'string', default: '200000' },
  rounds: { type: 'string', default: '7' },
  split: { type: 'boolean', default: false },
});
const N = Number(values.requests);
const ROUNDS = Number(values.rounds);
const STAGES = [STAGE.parse, STAGE.process, STAGE.downstream, STAGE.transform, STAGE.send];

const cpuNs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

function run(tracker: RequestTracker | null): number {
  const handle = {};
  let sink = 0;
  const t0 = cpuNs();
  for (let i = 0; i < N; i++) {
    if (tracker !== null) tracker.begin(handle, -1, 0);
    for (const s of STAGES) {
      if (tracker !== null) tracker.markStage(handle, s);
      sink += s;
    }
    if (tracker !== null) tracker.end(handle);
  }
  if (sink < 0) console.log(sink);
  return (cpuNs() - t0) / N;
}

const tracker = new RequestTracker(new ThreadRing(1000));
if (values.split) tracker.splitBySchedstat(new ThreadSchedstat());
let bare = Infinity;
let tracked = Infinity;
for (let r = 0; r < ROUNDS; r++) {
  bare = Math.min(bare, run(null));
  tracked = Math.min(tracked, run(tracker));
}
console.log(`tracker${values.split ? ' with the schedstat split' : ''}: ${(tracked - bare).toFixed(0)} ns of CPU a request (${tracked.toFixed(0)} with it, ${bare.toFixed(0)} without; best of ${ROUNDS} x ${N})`);
