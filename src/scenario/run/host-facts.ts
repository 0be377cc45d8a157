/** Facts about the machine a recording was made on, from systeminformation (once per run, never on a hot path). */
import os from 'node:os';
import si from 'systeminformation';
import { cpuQuotaCores } from '../../vocabulary/cpu-limit.js';
import type { HostFacts } from '../../vocabulary/index.js';

export async function hostFacts(): Promise<HostFacts> {
  const [cpu, mem, osInfo] = await Promise.all([si.cpu(), si.mem(), si.osInfo()]);
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
  };
}
