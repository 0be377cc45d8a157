/**
 * Ground truth for CPU figures: a process tree's CPU read straight from /proc, independently of anything srvlens
 * measures. Every `everyMs` it finds the process whose cmdline matches and sums its own utime + stime, the
 * cutime + cstime of the children it has reaped, and the utime + stime of its living children: the CPU the tree has
 * used so far, ms, stamped on CLOCK_MONOTONIC (process.hrtime), the clock a recording's frame times are on.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: /proc's CPU times are in ticks of 1/100 s. */
const TICKS_PER_S = 100;

/** [monotonic ms, CPU the tree has used so far, ms], in time order. */
export type Series = [monoMs: number, cpuMs: number][];

export interface TreeSampler {
  /** Ends the sampling (if the process has not already gone) and gives what was sampled. */
  stop(): Promise<Series>;
  /** Resolves when sampling ends: the process was seen and is gone, or stop() was called. */
  ended: Promise<Series>;
}

const monoMs = () => Number(process.hrtime.bigint()) / 1e6;

interface Stat {
  ppid: number;
  /** utime + stime, ticks. */
  self: number;
  /** cutime + cstime: children waited for, ticks. */
  reaped: number;
}

function readStat(pid: string): Stat | null {
  let s: string;
  try {
    s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // gone
  }
  // The command name (field 2) may hold spaces and parentheses: fields are split after its closing ')'.
  const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  return { ppid: Number(f[1]), self: Number(f[11]) + Number(f[12]), reaped: Number(f[13]) + Number(f[14]) };
}

/** The process's argv as one string, arguments separated by spaces, the NUL padding a set title leaves removed. */
function readCmdline(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

const pidsNow = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p));

/**
 * The tree's CPU in ticks, or null if the root is gone. A child reaped while its siblings are read would move from
 * the living to the reaped sum between the two reads, counted twice or not at all: the read is retried until the
 * root's reaped sum held still around it.
 */
function treeTicks(root: string): number | null {
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = readStat(root);
    if (!before) return null;
    let living = 0;
    for (const p of pidsNow()) {
      const s = readStat(p);
      if (s && s.ppid === Number(root)) living += s.self;
    }
    const after = readStat(root);
    if (!after) return null;
    if (after.reaped === before.reaped) return after.self + after.reaped + living;
  }
  return null;
}

/**
 * Samples the tree of the first process whose cmdline satisfies `match`, from when it appears (start this before
 * the process) until it is gone or stop() is called.
 */
export function sampleProcessTree(match: (cmdline: string) => boolean, everyMs = 20): TreeSampler {
  const series: Series = [];
  let root: string | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let end: (s: Series) => void = () => undefined;
  const ended = new Promise<Series>((resolve) => (end = resolve));

  const tick = () => {
    if (stopped) return;
    root ??= pidsNow().find((p) => match(readCmdline(p))) ?? null;
    if (root !== null) {
      const t = monoMs();
      const ticks = treeTicks(root);
      if (ticks === null && readStat(root) === null) {
        // Seen and gone: all of its tree's CPU is in the last sample.
        stopped = true;
        end(series);
        return;
      }
      if (ticks !== null) series.push([t, (ticks * 1000) / TICKS_PER_S]);
    }
    timer = setTimeout(tick, everyMs);
  };
  tick();

  return {
    ended,
    stop() {
      if (!stopped) {
        stopped = true;
        clearTimeout(timer);
        end(series);
      }
      return ended;
    },
  };
}

/**
 * The tree's CPU between two instants, ms: the value at the last sample at or before each, differenced. Before the
 * first sample the tree counts as having used nothing (the sampler is started before the process).
 */
export function cpuBetween(series: Series, fromMs: number, toMs: number): number {
  return valueAt(series, toMs) - valueAt(series, fromMs);
}

function valueAt(series: Series, t: number): number {
  // Binary search for the last sample with time <= t.
  let lo = 0;
  let hi = series.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (series[mid][0] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? 0 : series[lo - 1][1];
}
