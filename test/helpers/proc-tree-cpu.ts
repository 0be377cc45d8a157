/**
 * Ground truth for CPU figures: a process tree's CPU read straight from /proc, beside whatever srvlens recorded.
 * Every `everyMs` it finds the process whose cmdline matches and sums its own utime + stime, the cutime + cstime of
 * the children it reaped, and the utime + stime of its living children: CPU the tree has used so far, in ms, on the
 * host's monotonic clock (CLOCK_MONOTONIC, the recording's clock).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: the unit of /proc's CPU times. */
const TICKS_PER_S = 100;

export type Series = [monoMs: number, cpuMs: number][];

const monoMs = () => Number(process.hrtime.bigint()) / 1e6;

function stat(pid: string): { ppid: number; self: number; reaped: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    return { ppid: Number(f[1]), self: Number(f[11]) + Number(f[12]), reaped: Number(f[13]) + Number(f[14]) };
  } catch {
    return null;
  }
}

function cmdline(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

export function sampleProcessTree(match: (cmdline: string) => boolean, everyMs = 20): { stop(): Promise<Series> } {
  const series: Series = [];
  let root: string | null = null;
  let done = false;
  let resolveDone: () => void = () => undefined;
  const finished = new Promise<void>((r) => (resolveDone = r));
  const tick = () => {
    if (done) return resolveDone();
    const pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
    if (root === null || stat(root) === null) {
      if (root !== null) {
        // It was seen and is gone: the tree's CPU is all in.
        done = true;
        return resolveDone();
      }
      root = pids.find((p) => match(cmdline(p))) ?? null;
    }
    if (root !== null) {
      const top = stat(root);
      if (top) {
        let ticks = top.self + top.reaped;
        for (const p of pids) {
          const s = stat(p);
          if (s && String(s.ppid) === root) ticks += s.self;
        }
        series.push([monoMs(), (ticks * 1000) / TICKS_PER_S]);
      }
    }
    setTimeout(tick, everyMs);
  };
  tick();
  return {
    async stop() {
      done = true;
      await finished;
      return series;
    },
  };
}

/** The tree's CPU between two instants, ms: from the last sample at or before each. */
export function cpuBetween(series: Series, fromMs: number, toMs: number): number {
  const at = (t: number) => {
    let v = 0;
    for (const [ts, cpu] of series) {
      if (ts > t) break;
      v = cpu;
    }
    return v;
  };
  return at(toMs) - at(fromMs);
}
