/**
 * The CPU quota of a process's cgroup, in cores: the most CPU time per second its processes may have, whatever the
 * host has. cgroup v2 says it in `cpu.max` ("max 100000" or "<quota> <period>"), v1 in `cpu.cfs_quota_us` (-1: none)
 * over `cpu.cfs_period_us`. A quota can be set at any level of the hierarchy: the tightest from the process's own
 * cgroup up to the root holds. Null when no level sets one (or none can be read).
 */
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';

const V2_ROOT = '/sys/fs/cgroup';
const V1_ROOT = '/sys/fs/cgroup/cpu';

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/** The cgroup paths of `/proc/<pid>/cgroup`: the v2 one (`0::/path`) and the v1 cpu controller's. */
function cgroupPaths(pid: number | 'self'): { v2: string | null; v1: string | null } {
  const out: { v2: string | null; v1: string | null } = { v2: null, v1: null };
  for (const line of (read(`/proc/${pid}/cgroup`) ?? '').split('\n')) {
    const [id, controllers, path] = line.split(':');
    if (path === undefined) continue;
    if (id === '0' && controllers === '') out.v2 = path;
    else if (controllers.split(',').includes('cpu')) out.v1 = path;
  }
  return out;
}

/** `/a/b` -> `/a/b`, `/a`, `/`. */
function upward(path: string): string[] {
  const out: string[] = [];
  for (let p = posix.normalize(path); ; p = posix.dirname(p)) {
    out.push(p);
    if (p === '/') return out;
  }
}

function v2Cores(dir: string): number | null {
  const [quota, period] = (read(`${dir}/cpu.max`) ?? 'max').split(/\s+/);
  return quota === 'max' || !(Number(period) > 0) ? null : Number(quota) / Number(period);
}

function v1Cores(dir: string): number | null {
  const quota = Number(read(`${dir}/cpu.cfs_quota_us`) ?? -1);
  const period = Number(read(`${dir}/cpu.cfs_period_us`) ?? 0);
  return quota > 0 && period > 0 ? quota / period : null;
}

export function cpuQuotaCores(pid: number | 'self' = 'self'): number | null {
  const paths = cgroupPaths(pid);
  const quotas: number[] = [];
  if (paths.v2 !== null) for (const p of upward(paths.v2)) quotas.push(v2Cores(posix.join(V2_ROOT, p)) ?? Infinity);
  if (paths.v1 !== null) for (const p of upward(paths.v1)) quotas.push(v1Cores(posix.join(V1_ROOT, p)) ?? Infinity);
  const tightest = Math.min(Infinity, ...quotas);
  return Number.isFinite(tightest) ? tightest : null;
}
