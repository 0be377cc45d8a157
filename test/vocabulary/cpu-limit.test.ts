/**
 * The cores a process may use. On real cgroups made for the test (this machine runs the suite as root; it has
 * cgroup v1, where a v2 machine gets v2 ones): a quota, a cpuset, a quota on an ancestor. The v2 files' layout,
 * which this machine cannot show, is read from the same code through a table of paths.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cgroupPaths,
  cpuLimit,
  cpuLimitOf,
  cpuQuotaCores,
  cpusetFrom,
  parseCpuList,
  parseCpuMax,
  quotaFrom,
} from '../../src/vocabulary/cpu-limit.js';
import { makeCgroup, type TestCgroup } from '../helpers/cgroup.js';

const HOST = parseCpuList(readFileSync('/sys/devices/system/cpu/online', 'utf8').trim())!;

describe('the cores a process may use, on real cgroups', () => {
  const made: TestCgroup[] = [];
  const children: ChildProcess[] = [];
  afterEach(async () => {
    // A cgroup goes once its last process has: wait for the kills to land, then remove the deepest first.
    await Promise.all(children.splice(0).map((c) => (c.exitCode === null ? (c.kill(), once(c, 'exit')) : null)));
    for (const g of made.splice(0).reverse()) g.remove();
  });
  const sleeper = () => {
    const c = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(c);
    return c.pid!;
  };
  const cgroup = (o: Parameters<typeof makeCgroup>[0]) => {
    const g = makeCgroup(o);
    made.push(g);
    return g;
  };

  it('is the host\'s online CPUs where no cgroup limits it (this test\'s own process)', () => {
    expect(cpuLimit(sleeper())).toEqual(cpuLimit('self'));
    expect(cpuQuotaCores('self')).toBeNull();
    expect(cpuLimit('self')).toEqual({ cores: HOST, source: 'host' });
  });

  it('is a quota of half a core set on the process\'s cgroup', () => {
    const pid = sleeper();
    cgroup({ quota: 0.5 }).add(pid);
    expect(cpuQuotaCores(pid)).toBeCloseTo(0.5, 6);
    expect(cpuLimit(pid)).toEqual({ cores: 0.5, source: 'cgroup cpu.max' });
  });

  it('is the cpuset\'s one CPU where it is tighter than the host', () => {
    if (HOST < 2) return; // one CPU: a cpuset of it is no limit (the rule, tested below on a table)
    const pid = sleeper();
    cgroup({ cpus: '0' }).add(pid);
    expect(cpuLimit(pid)).toEqual({ cores: 1, source: 'cpuset' });
  });

  it('is the tightest of every level: a quota on the parent holds for a child cgroup that sets none, a tighter one on the child wins', () => {
    const parent = cgroup({ quota: 1.5 });
    const child = cgroup({ parent });
    const pid = sleeper();
    child.add(pid);
    expect(cpuLimit(pid)).toEqual(HOST > 1.5 ? { cores: 1.5, source: 'cgroup cpu.max' } : { cores: HOST, source: 'host' });
    const inner = cgroup({ parent: child, quota: 0.25 });
    inner.add(pid);
    expect(cpuLimit(pid)).toEqual({ cores: 0.25, source: 'cgroup cpu.max' });
  });
});

describe('reading cgroup files', () => {
  it('parses cpu.max and CPU lists, and rejects what is neither', () => {
    expect(parseCpuMax('50000 100000')).toBe(0.5);
    expect(parseCpuMax('250000 100000')).toBe(2.5);
    expect(parseCpuMax('max 100000')).toBeNull();
    expect(parseCpuMax(null)).toBeNull();
    expect(parseCpuMax('50000')).toBeNull();
    expect(parseCpuList('0-3,6,8-9')).toBe(7);
    expect(parseCpuList('0')).toBe(1);
    expect(parseCpuList('')).toBeNull();
    expect(parseCpuList('3-1')).toBeNull();
    expect(parseCpuList('a')).toBeNull();
  });

  it('finds the v2 path and the v1 controllers\' in /proc/PID/cgroup', () => {
    expect(cgroupPaths('0::/kubepods/pod1/c1\n')).toEqual({ v2: '/kubepods/pod1/c1', cpu: null, cpuset: null });
    expect(cgroupPaths('4:memory:/m\n3:cpuset:/s\n2:cpu,cpuacct:/docker/abc\n0::/\n')).toEqual({ v2: '/', cpu: '/docker/abc', cpuset: '/s' });
  });

  it('walks a v2 hierarchy up to the root: the tightest quota and cpuset of every level', () => {
    const files: Record<string, string> = {
      '/sys/fs/cgroup/cpuset.cpus.effective': '0-15',
      '/sys/fs/cgroup/kubepods/cpu.max': 'max 100000',
      '/sys/fs/cgroup/kubepods/pod1/cpu.max': '150000 100000',
      '/sys/fs/cgroup/kubepods/pod1/cpuset.cpus.effective': '0-3',
      '/sys/fs/cgroup/kubepods/pod1/c1/cpu.max': 'max 100000',
      '/sys/fs/cgroup/kubepods/pod1/c1/cpuset.cpus.effective': '2-3',
    };
    const read = (p: string) => files[p] ?? null;
    expect(quotaFrom('0::/kubepods/pod1/c1', read)).toBe(1.5);
    expect(cpusetFrom('0::/kubepods/pod1/c1', read)).toBe(2);
    expect(quotaFrom('0::/kubepods', read)).toBeNull();
    expect(cpusetFrom('0::/kubepods', read)).toBe(16);
  });

  it('names the source only where it is tighter than the host and the sources before it', () => {
    expect(cpuLimitOf(8, null, null)).toEqual({ cores: 8, source: 'host' });
    expect(cpuLimitOf(8, 8, null)).toEqual({ cores: 8, source: 'host' });
    expect(cpuLimitOf(8, 4, null)).toEqual({ cores: 4, source: 'cpuset' });
    expect(cpuLimitOf(8, 4, 4)).toEqual({ cores: 4, source: 'cpuset' });
    expect(cpuLimitOf(8, 4, 1.5)).toEqual({ cores: 1.5, source: 'cgroup cpu.max' });
    expect(cpuLimitOf(2, null, 3)).toEqual({ cores: 2, source: 'host' });
  });
});
