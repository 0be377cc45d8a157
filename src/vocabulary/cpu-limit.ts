/**
 * The cores a process may use, read from the platform, never assumed: the tightest of its cgroup's CPU quota (the
 * most CPU time per second its processes may have), its cpuset (the CPUs it may run on) and the host's online CPUs.
 * A container's quota or cpuset can be set at any level of the hierarchy: every level from the process's own cgroup
 * up to the root is read, and the tightest holds.
 *
 * cgroup v2 (`0::/path` in /proc/PID/cgroup) says the quota in `cpu.max` ("max 100000" or "<quota> <period>") and
 * the CPUs in `cpuset.cpus.effective`; v1 in the cpu controller's `cpu.cfs_quota_us` (-1: none) over
 * `cpu.cfs_period_us` and the cpuset controller's `cpuset.effective_cpus`. A v1 quota is reported under the same
 * source as a v2 one (`cgroup cpu.max`): it is the same limit.
 *
 * Not in the vocabulary's index: it reads files, and the agent's preload never needs it (the agent thread does).
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { posix } from 'node:path';

export const CPU_LIMIT_SOURCE = { quota: 'cgroup cpu.max', cpuset: 'cpuset', host: 'host' } as const;
export type CpuLimitSource = (typeof CPU_LIMIT_SOURCE)[keyof typeof CPU_LIMIT_SOURCE];

export interface CpuLimit {
  /** May be fractional (a quota of half a core is 0.5). */
  cores: number;
  source: CpuLimitSource;
}

/** A file's trimmed text, or null when it cannot be read; paths are absolute under the real filesystem's root. */
export type ReadFile = (path: string) => string | null;

const readReal: ReadFile = (path) => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
};

const CGROUP_ROOT = '/sys/fs/cgroup';

/** The cgroup paths in /proc/PID/cgroup's text: the v2 one (`0::/path`) and the v1 cpu and cpuset controllers'. */
export function cgroupPaths(text: string): { v2: string | null; cpu: string | null; cpuset: string | null } {
  const out: ReturnType<typeof cgroupPaths> = { v2: null, cpu: null, cpuset: null };
  for (const line of text.split('\n')) {
    const [id, controllers, path] = line.split(':');
    if (path === undefined) continue;
    if (id === '0' && controllers === '') out.v2 = path;
    const list = controllers.split(',');
    if (list.includes('cpu')) out.cpu = path;
    if (list.includes('cpuset')) out.cpuset = path;
  }
  return out;
}

/** `cpu.max`'s cores: "50000 100000" -> 0.5; "max 100000" (no quota) or anything else -> null. */
export function parseCpuMax(text: string | null): number | null {
  const [quota, period] = (text ?? '').split(/\s+/);
  return quota !== 'max' && Number(quota) > 0 && Number(period) > 0 ? Number(quota) / Number(period) : null;
}

/** How many CPUs a kernel CPU list names ("0-3,6,8-9" -> 7); null when it names none or is not one. */
export function parseCpuList(text: string | null): number | null {
  if (!text) return null;
  let n = 0;
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return null;
    const hi = m[2] === undefined ? Number(m[1]) : Number(m[2]);
    if (hi < Number(m[1])) return null;
    n += hi - Number(m[1]) + 1;
  }
  return n > 0 ? n : null;
}

/** `/a/b` -> `/a/b`, `/a`, `/`. */
function upward(path: string): string[] {
  const out: string[] = [];
  for (let p = posix.normalize(path); ; p = posix.dirname(p)) {
    out.push(p);
    if (p === '/') return out;
  }
}

/** The smallest figure over a cgroup and its ancestors (levels that set none, or cannot be read, count as none). */
function tightest(dir: string, path: string | null, figure: (at: (file: string) => string) => number | null): number | null {
  if (path === null) return null;
  let min = Infinity;
  for (const p of upward(path)) min = Math.min(min, figure((file) => posix.join(dir, p, file)) ?? Infinity);
  return Number.isFinite(min) ? min : null;
}

function v1Quota(read: ReadFile, at: (file: string) => string): number | null {
  const quota = Number(read(at('cpu.cfs_quota_us')) ?? -1);
  const period = Number(read(at('cpu.cfs_period_us')) ?? 0);
  return quota > 0 && period > 0 ? quota / period : null;
}

/** The CPU quota in cores from /proc/PID/cgroup's text, or null when no level sets one. */
export function quotaFrom(cgroupText: string, read: ReadFile = readReal, root = CGROUP_ROOT): number | null {
  const paths = cgroupPaths(cgroupText);
  const v2 = tightest(root, paths.v2, (at) => parseCpuMax(read(at('cpu.max'))));
  const v1 = tightest(`${root}/cpu`, paths.cpu, (at) => v1Quota(read, at));
  return v2 === null ? v1 : v1 === null ? v2 : Math.min(v1, v2);
}

/** The CPUs of the cpuset from /proc/PID/cgroup's text, or null when none can be read. */
export function cpusetFrom(cgroupText: string, read: ReadFile = readReal, root = CGROUP_ROOT): number | null {
  const paths = cgroupPaths(cgroupText);
  const v2 = tightest(root, paths.v2, (at) => parseCpuList(read(at('cpuset.cpus.effective'))));
  const v1 = tightest(`${root}/cpuset`, paths.cpuset, (at) => parseCpuList(read(at('cpuset.effective_cpus'))));
  return v2 === null ? v1 : v1 === null ? v2 : Math.min(v1, v2);
}

/**
 * The limit from what the platform says. A source is named only where it is tighter than the host and any source
 * before it (cpuset, then quota): a cpuset of every CPU is no limit, and says `host`.
 */
export function cpuLimitOf(hostCores: number, cpuset: number | null, quota: number | null): CpuLimit {
  let limit: CpuLimit = { cores: hostCores, source: CPU_LIMIT_SOURCE.host };
  if (cpuset !== null && cpuset < limit.cores) limit = { cores: cpuset, source: CPU_LIMIT_SOURCE.cpuset };
  if (quota !== null && quota < limit.cores) limit = { cores: quota, source: CPU_LIMIT_SOURCE.quota };
  return limit;
}

/** The host's online CPUs (not the process's affinity: a taskset is the process's choice, not its platform's). */
function hostCores(read: ReadFile): number {
  return parseCpuList(read('/sys/devices/system/cpu/online')) ?? cpus().length;
}

/** The cgroup CPU quota of a process, in cores; null when no level of its hierarchy sets one. */
export function cpuQuotaCores(pid: number | 'self' = 'self'): number | null {
  return quotaFrom(readReal(`/proc/${pid}/cgroup`) ?? '');
}

/** The cores a process may use, and what set that. Read once where it is needed: a few small files. */
export function cpuLimit(pid: number | 'self' = 'self'): CpuLimit {
  const text = readReal(`/proc/${pid}/cgroup`) ?? '';
  return cpuLimitOf(hostCores(readReal), cpusetFrom(text), quotaFrom(text));
}
