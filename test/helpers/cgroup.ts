/**
 * Real cgroups for tests (the suite runs as root here): a CPU quota or a cpuset on a cgroup of the test's own,
 * `srvlens-test-<pid>-<n>`, under cgroup v2 where the machine has it, else under v1's cpu and cpuset controllers.
 * `remove()` takes them away once the processes moved in have ended.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CGROUP_V2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
const V1_CPU = '/sys/fs/cgroup/cpu';
const V1_CPUSET = '/sys/fs/cgroup/cpuset';

let made = 0;

export interface TestCgroup {
  /** Its directory, one per hierarchy it is in (v1: cpu, then cpuset). */
  dirs: string[];
  /** Moves a process in (its threads and later children go with it). */
  add(pid: number): void;
  /** Removes the cgroup's directories, deepest first; its processes must have ended. */
  remove(): void;
}

/**
 * A cgroup with a quota of `quota` cores and/or the CPUs `cpus` (a kernel CPU list, "0"); `parent`, when given,
 * nests it under that one's directories (to see a limit set on an ancestor).
 */
export function makeCgroup(o: { quota?: number; cpus?: string; parent?: TestCgroup }): TestCgroup {
  const name = `srvlens-test-${process.pid}-${made++}`;
  const under = (root: string, i: number) => join(o.parent ? o.parent.dirs[i] : root, name);
  const dirs = CGROUP_V2 ? [under('/sys/fs/cgroup', 0)] : [under(V1_CPU, 0), under(V1_CPUSET, 1)];
  for (const d of dirs) mkdirSync(d);
  const period = 100_000;
  if (CGROUP_V2) {
    if (o.quota !== undefined) writeFileSync(join(dirs[0], 'cpu.max'), `${Math.round(o.quota * period)} ${period}`);
    if (o.cpus !== undefined) writeFileSync(join(dirs[0], 'cpuset.cpus'), o.cpus);
  } else {
    if (o.quota !== undefined) writeFileSync(join(dirs[0], 'cpu.cfs_quota_us'), String(Math.round(o.quota * period)));
    // A v1 cpuset takes no process before it has CPUs and memory nodes: its parent's, unless told otherwise.
    const parentDir = join(dirs[1], '..');
    writeFileSync(join(dirs[1], 'cpuset.cpus'), o.cpus ?? readFileSync(join(parentDir, 'cpuset.cpus'), 'utf8').trim());
    writeFileSync(join(dirs[1], 'cpuset.mems'), readFileSync(join(parentDir, 'cpuset.mems'), 'utf8').trim());
  }
  return {
    dirs,
    add(pid) {
      for (const d of dirs) writeFileSync(join(d, 'cgroup.procs'), String(pid));
    },
    remove() {
      for (const d of dirs) if (existsSync(d)) rmdirSync(d);
    },
  };
}
