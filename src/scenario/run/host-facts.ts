/**
 * Facts about the machine a recording was made on, from systeminformation (once per run, never on a hot path): what
 * node:os does not tell (the CPU's model and speed, a hypervisor, a container, the frequency governor).
 */
import os from 'node:os';
import si from 'systeminformation';
import { cpuQuotaCores } from '../../vocabulary/cpu-limit.js';
import type { HostFacts } from '../../vocabulary/index.js';

export async function hostFacts(): Promise<HostFacts> {
  const [cpu, mem, osInfo, system] = await Promise.all([si.cpu(), si.mem(), si.osInfo(), si.system()]);
  return {
    cpus: os.availableParallelism(),
    cpu_quota_cores: cpuQuotaCores(),
    cpu_model: `${cpu.manufacturer} ${cpu.brand}`.trim(),
    cpu_speed_ghz: cpu.speed || null,
    memory_bytes: mem.total,
    os: `${osInfo.distro} ${osInfo.release}`.trim(),
    kernel: osInfo.kernel,
    hostname: osInfo.hostname,
    node: process.version,
    virtual: system.virtual ? system.virtualHost || 'unknown' : null,
    // systeminformation names a container by the model it reports (/.dockerenv, the cgroup of PID 1).
    container: /container/i.test(system.model),
    cpu_governor: cpu.governor || null,
  };
}
