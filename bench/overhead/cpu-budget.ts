/**
 * Equal CPU budgets for the overhead bench's paired trials: a Linux cpu cgroup per server, with the same hard quota
 * (a share of one core) and a weight far above everything else's, so that for the measured seconds each server of a
 * pair gets exactly its quota, whatever else the machine runs.
 *
 * Why: on these shared 2-core VMs a trial's throughput moved by up to 35 % between back-to-back runs of the same
 * server (other engineers' work, the hypervisor), far more than the few % the agent is held to. Two servers run side
 * by side under equal quotas meet the same disturbances in the same seconds, and each is held to the same CPU, so
 * the ratio of their throughputs is the ratio of their CPU per request: measured here, two servers without an agent
 * side by side read 0.94-1.04 of each other on event-loop hello (8 runs of 2 rounds; one plain-app round 0.90),
 * where back-to-back trials of one server read up to 35 % apart.
 *
 * cgroup v1 (`/sys/fs/cgroup/cpu`: cpu.cfs_quota_us, cpu.shares) and v2 (cpu.max, cpu.weight, where the cpu
 * controller is on the unified hierarchy). Root only; where it cannot, `cpuBudgetUnavailable` says why and the bench
 * runs its trials one after another as before.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const V1_ROOT = '/sys/fs/cgroup/cpu';
const V2_ROOT = '/sys/fs/cgroup';
const PERIOD_US = 100_000;
/** Above every other group and task (v1 default 1024, v2 default 100): the servers always get their quota. */
const V1_SHARES = 262_144;
const V2_WEIGHT = 10_000;

type Layout = { version: 1; root: string } | { version: 2; root: string };

function layout(): Layout | string {
  if (process.platform !== 'linux') return `needs Linux cgroups (this is ${process.platform})`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'needs root to make cpu cgroups';
  if (existsSync(join(V1_ROOT, 'cpu.cfs_quota_us'))) return { version: 1, root: V1_ROOT };
  try {
    if (readFileSync(join(V2_ROOT, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('cpu')) return { version: 2, root: V2_ROOT };
  } catch {
    // no unified hierarchy with a cpu controller
  }
  return 'no cpu cgroup controller (neither /sys/fs/cgroup/cpu nor cpu in /sys/fs/cgroup/cgroup.controllers)';
}

const PREFIX = 'srvlens-bench-';

/** Why equal CPU budgets cannot be made here, or null when they can. */
export function cpuBudgetUnavailable(): string | null {
  const l = layout();
  return typeof l === 'string' ? l : null;
}

/** Scheduler periods so far, and those in which a group used up its quota (it wanted more: it was saturated). */
export interface Throttling {
  periods: number;
  throttled: number;
}

/** The share of the scheduler periods between two readings in which the group used up its quota, %; null: none passed. */
export function throttledPct(before: Throttling, after: Throttling): number | null {
  const periods = after.periods - before.periods;
  return periods > 0 ? ((after.throttled - before.throttled) / periods) * 100 : null;
}

/** One cgroup: processes moved into it share `cores` of CPU time (null: no cap yet, only the weight). */
export class CpuBudget {
  private constructor(
    private readonly l: Layout,
    readonly dir: string,
  ) {}

  static create(name: string, cores: number | null): CpuBudget {
    const l = layout();
    if (typeof l === 'string') throw new Error(`cpu budget: ${l}`);
    // v2: the root's children get the cpu controller only once it is in the root's subtree_control.
    if (l.version === 2 && !readFileSync(join(l.root, 'cgroup.subtree_control'), 'utf8').split(/\s+/).includes('cpu')) {
      writeFileSync(join(l.root, 'cgroup.subtree_control'), '+cpu');
    }
    CpuBudget.sweepStale(l);
    const dir = join(l.root, `${PREFIX}${name}-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    if (l.version === 1) {
      writeFileSync(join(dir, 'cpu.shares'), String(V1_SHARES));
      writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
    } else {
      writeFileSync(join(dir, 'cpu.weight'), String(V2_WEIGHT));
    }
    const budget = new CpuBudget(l, dir);
    budget.cap(cores);
    return budget;
  }

  /** Groups a bench killed before it could remove them (named for its pid, now gone): emptied and removed. */
  private static sweepStale(l: Layout): void {
    for (const entry of readdirSync(l.root)) {
      const pid = entry.startsWith(PREFIX) ? Number(entry.slice(entry.lastIndexOf('-') + 1)) : NaN;
      if (!Number.isInteger(pid) || pid === process.pid || existsSync(`/proc/${pid}`)) continue;
      new CpuBudget(l, join(l.root, entry)).remove();
    }
  }

  /** Holds the group to `cores` of CPU time from the next scheduler period on (null: lifts the cap). */
  cap(cores: number | null): void {
    const quota = cores === null ? null : Math.round(cores * PERIOD_US);
    if (this.l.version === 1) writeFileSync(join(this.dir, 'cpu.cfs_quota_us'), String(quota ?? -1));
    else writeFileSync(join(this.dir, 'cpu.max'), `${quota ?? 'max'} ${PERIOD_US}`);
  }

  /** Moves `pid` (all its threads; the processes it forks later follow it) into this budget. */
  add(pid: number): void {
    writeFileSync(join(this.dir, 'cgroup.procs'), String(pid));
  }

  throttling(): Throttling {
    const stat = readFileSync(join(this.dir, 'cpu.stat'), 'utf8');
    const field = (name: string) => Number(stat.match(new RegExp(`^${name} (\\d+)$`, 'm'))?.[1] ?? 0);
    return { periods: field('nr_periods'), throttled: field('nr_throttled') };
  }

  /** Moves whatever is left back to the root group and removes this one. */
  remove(): void {
    try {
      const left = readFileSync(join(this.dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
      for (const pid of left) {
        try {
          writeFileSync(join(this.l.root, 'cgroup.procs'), pid);
        } catch {
          // gone meanwhile
        }
      }
      rmdirSync(this.dir);
    } catch {
      // already removed
    }
  }
}
