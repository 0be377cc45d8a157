/**
 * The host facts a recording carries, read on this machine and held against the kernel's own word for them: the CPU
 * count, a hypervisor (the CPU's `hypervisor` flag in /proc/cpuinfo), a container (the marker a container runtime
 * leaves at /.dockerenv or /run/.containerenv), the governor (cpufreq in sysfs, where there is one).
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { hostFacts } from '../../src/scenario/run/host-facts.js';
import { hostSetting } from '../../src/report/host-setting.js';

const GOVERNOR = '/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor';

describe('host facts', () => {
  it('say what the host runs on as the kernel does, and the report says it in words', async () => {
    const h = await hostFacts();
    expect(h.cpus).toBe(availableParallelism());
    const guest = /^flags\s*:.*\bhypervisor\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
    if (guest) expect(h.virtual).toEqual(expect.any(String));
    else expect(h.virtual).toBeNull();
    expect(h.container).toBe(existsSync('/.dockerenv') || existsSync('/run/.containerenv'));
    expect(h.cpu_governor).toBe(existsSync(GOVERNOR) ? readFileSync(GOVERNOR, 'utf8').trim() : null);
    const said = hostSetting(h);
    expect(said).toContain(guest ? `${h.virtual === 'unknown' ? 'virtual machine' : `${h.virtual} guest`}` : 'bare metal');
    if (h.container) expect(said).toContain('in a container');
  });
});
