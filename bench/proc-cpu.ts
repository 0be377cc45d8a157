/**
 * CPU time from /proc for the benches: of one process (user + system over all its threads, /proc/PID/stat) and of
 * the whole machine (/proc/stat), so a bench can show how much of the cores something else took during a trial.
 */
import { readFileSync } from 'node:fs';

/** Linux's USER_HZ (`getconf CLK_TCK`), the unit of utime and stime; 100 on every kernel the project runs on. */
const CLK_TCK = 100;

/** CPU seconds `pid` has used so far (10 ms resolution), or null where there is no /proc (not Linux, or gone). */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name in parentheses may hold spaces; fields are counted from after it (state is field 3).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[14 - 3]);
    const stime = Number(fields[15 - 3]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / CLK_TCK : null;
  } catch {
    return null;
  }
}

export interface MachineCpu {
  /** CPU seconds all cores spent running anything (user, nice, system, irq, softirq). */
  busy: number;
  /** CPU seconds the hypervisor ran something else while this VM wanted to run. */
  steal: number;
}

/** Totals over all cores since boot from /proc/stat's `cpu` line, or null without /proc. */
export function machineCpuSeconds(): MachineCpu | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = user + nice + system + irq + softirq;
    return Number.isFinite(busy) ? { busy: busy / CLK_TCK, steal: (steal || 0) / CLK_TCK } : null;
  } catch {
    return null;
  }
}

/**
 * Samples the machine's busy CPU over `sampleMs` until it is under `maxPct` of one core or `timeoutMs` has passed;
 * returns the last reading (% of one core), or null without /proc. Call it while the caller's own processes idle.
 * `cancelled` ends the wait early (Ctrl-C).
 */
export async function waitForQuietMachine(
  maxPct: number,
  timeoutMs: number,
  cancelled: () => boolean = () => false,
  sampleMs = 1000,
): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const a = machineCpuSeconds();
    await new Promise((resolve) => setTimeout(resolve, sampleMs));
    const b = machineCpuSeconds();
    if (a === null || b === null) return null;
    const pct = ((b.busy - a.busy) / (sampleMs / 1000)) * 100;
    if (pct < maxPct || Date.now() >= deadline || cancelled()) return pct;
  }
}

/**
 * CPU seconds `pids` have used so far, together: a server that is a tree of processes (prefork's workers beside the
 * process that forked them) as one. Null when any of them is gone: a sum without it would undercount.
 */
export function processesCpuSeconds(pids: readonly number[]): number | null {
  let sum = 0;
  for (const pid of pids) {
    const s = processCpuSeconds(pid);
    if (s === null) return null;
    sum += s;
  }
  return sum;
}

/**
 * CPU seconds so far: a server's (all its processes), the bench's helper processes' (the first is the trial's
 * downstream tier: the backend, or the plain app's upstream), this process's (the generator, the collector), the
 * machine's.
 */
export interface CpuSnapshot {
  server: number | null;
  helpers: (number | null)[];
  self: number;
  machine: MachineCpu | null;
}

export function cpuSnapshot(serverPids: readonly number[], helperPids: readonly number[]): CpuSnapshot {
  const self = process.cpuUsage();
  return {
    server: processesCpuSeconds(serverPids),
    helpers: helperPids.map(processCpuSeconds),
    self: (self.user + self.system) / 1e6,
    machine: machineCpuSeconds(),
  };
}

/**
 * What two snapshots `seconds` apart say: the server's CPU per response and busy %, the downstream tier's busy %
 * (null without one), others' CPU and steal in % of a core.
 */
export function cpuFigures(a: CpuSnapshot, b: CpuSnapshot, seconds: number, responses: number) {
  const server = a.server === null || b.server === null ? null : b.server - a.server;
  const helpers = a.helpers.map((x, i) => (x === null || b.helpers[i] === null ? null : (b.helpers[i] as number) - x));
  const downstream = helpers.length === 0 ? null : helpers[0];
  const ours = server === null ? null : server + helpers.reduce((n: number, x) => n + (x ?? 0), 0) + (b.self - a.self);
  const machine = a.machine === null || b.machine === null ? null : { busy: b.machine.busy - a.machine.busy, steal: b.machine.steal - a.machine.steal };
  return {
    cpuUsPerRequest: server === null ? null : (server * 1e6) / responses,
    serverBusyPct: server === null ? null : (server / seconds) * 100,
    downstreamBusyPct: downstream === null ? null : (downstream / seconds) * 100,
    // Clock ticks (10 ms) can make the difference dip just under 0 on a quiet machine.
    otherCpuPct: machine === null || ours === null ? null : Math.max(0, ((machine.busy - ours) / seconds) * 100),
    stealPct: machine === null ? null : (machine.steal / seconds) * 100,
  };
}
