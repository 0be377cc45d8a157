/**
 * A paired trial's load (cpu-budget.ts says why pairs): two servers loaded at once, each in a CPU budget of its own,
 * uncapped (but weighted) through the warm-up and capped at `cores` for the measured seconds, with the share of
 * those seconds' scheduler periods in which each used up its quota. The benches that pair (agent-overhead,
 * kernel-tracer-cost) differ only in what they start beside what.
 */
import { cpuFigures } from '../proc-cpu.js';
import { CpuBudget, throttledPct, type Throttling } from './cpu-budget.js';
import type { Pairing } from './summary.js';
import type { MeasuredWindow, WindowedRun } from './window.js';
import type autocannon from 'autocannon';

export interface WindowedResult {
  result: autocannon.Result;
  window: MeasuredWindow;
}

/** The two servers of a pair: what is measured, and what it is held against. */
export interface PairedRuns {
  /** The measured server's run; its `pids` go into its budget, and its CPU is theirs. */
  measured: WindowedRun;
  /** The server beside it, loaded at its own url. */
  beside: WindowedRun;
}

/**
 * Loads both at once through `load` (the caller's runWindowed, which it can stop on Ctrl-C) and returns both
 * results and the pairing. Uncapped through the warm-up: the warm-ups are a server's one-off start costs at the CPU
 * it gets alone (V8 compiling, an agent loading its exporter); capped from the start they ran into the measured
 * window (agent-overhead read 19 % against 9 %). Which load starts first alternates with `order`'s parity: the
 * first instance's requests go out first in each tick.
 */
export async function runPairedLoad(
  runs: PairedRuns,
  cores: number,
  order: number,
  load: (run: WindowedRun) => Promise<WindowedResult>,
): Promise<{ measured: WindowedResult; beside: WindowedResult; pairing: Pairing }> {
  const mine = CpuBudget.create('server', null);
  const theirs = CpuBudget.create('beside', null);
  try {
    for (const p of runs.measured.pids) mine.add(p);
    for (const p of runs.beside.pids) theirs.add(p);
    const at: Record<'open' | 'close', { mine: Throttling; theirs: Throttling } | null> = { open: null, close: null };
    const onEdge = (edge: 'open' | 'close') => {
      if (edge === 'open') for (const b of [mine, theirs]) b.cap(cores);
      at[edge] = { mine: mine.throttling(), theirs: theirs.throttling() };
    };
    // Each server's CPU is taken apart from the other's: for either, the other is one of ours, not "other".
    const both = [
      { ...runs.measured, helpers: [...runs.measured.helpers, ...runs.beside.pids], onEdge },
      { ...runs.beside, helpers: [...runs.beside.helpers, ...runs.measured.pids] },
    ];
    const first = order % 2 === 0 ? [0, 1] : [1, 0];
    const results = await Promise.all(first.map((i) => load(both[i])));
    const [measured, beside] = [results[first.indexOf(0)], results[first.indexOf(1)]];
    const saturated = (who: 'mine' | 'theirs') => {
      const [a, b] = [at.open?.[who], at.close?.[who]];
      return (a && b && throttledPct(a, b)) ?? 0;
    };
    const pairing: Pairing = {
      cores,
      besideReqPerSec: beside.window.ok / beside.window.seconds,
      besideCpuUsPerRequest: cpuFigures(beside.window.before, beside.window.after, beside.window.seconds, beside.window.answered).cpuUsPerRequest,
      saturatedPct: saturated('mine'),
      besideSaturatedPct: saturated('theirs'),
      besideErrors: beside.result.errors + beside.result.timeouts + beside.result.non2xx,
    };
    return { measured, beside, pairing };
  } finally {
    mine.remove();
    theirs.remove();
  }
}
