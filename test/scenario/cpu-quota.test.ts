/**
 * The cgroup CPU quota, read back from a real cgroup made for the test (this machine runs the suite as root): a
 * process moved into a cgroup allowed half a core is under a 0.5-core quota; this one, under none, has no quota.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { cpuQuotaCores } from '../../src/scenario/run/cpu-quota.js';

const V2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
const DIR = V2 ? `/sys/fs/cgroup/srvlens-test-${process.pid}` : `/sys/fs/cgroup/cpu/srvlens-test-${process.pid}`;

describe('cgroup CPU quota', () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  afterAll(() => {
    child.kill();
    // A cgroup goes once its last process has: wait for the kill to land.
    return new Promise<void>((resolve) => child.once('exit', () => (rmdirSync(DIR), resolve())));
  });

  it('reads no quota where none is set, and a half-core quota set on the cgroup of a process', () => {
    expect(cpuQuotaCores(child.pid!)).toBe(cpuQuotaCores('self'));
    mkdirSync(DIR);
    if (V2) writeFileSync(`${DIR}/cpu.max`, '50000 100000');
    else writeFileSync(`${DIR}/cpu.cfs_quota_us`, '50000');
    writeFileSync(`${DIR}/cgroup.procs`, String(child.pid));
    expect(cpuQuotaCores(child.pid!)).toBeCloseTo(0.5, 6);
  });
});
