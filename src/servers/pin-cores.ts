/**
 * A reference server pinned to its first N CPUs (a scenario's `cores:`, `srvlens capacity --vary cores=1,2`): the
 * process sets its own CPU affinity with taskset before it makes a thread or a child, every thread it already has
 * included (-a: the agent's, V8's), so whatever it makes later inherits the mask.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { ServerConfigError } from './errors.js';

export function pinToCores(pid: number, cores: number): void {
  const cpus = availableParallelism();
  if (!Number.isInteger(cores) || cores < 1 || cores > cpus) throw new ServerConfigError(`cores: expected 1 to ${cpus} (this machine's CPUs), got ${cores}`);
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cores === 1 ? '0' : `0-${cores - 1}`, String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    throw new ServerConfigError(`cores: taskset could not pin PID ${pid} to ${cores} CPUs (util-linux's taskset is needed): ${(err as Error).message}`);
  }
}
