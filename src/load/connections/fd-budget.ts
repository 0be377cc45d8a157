/**
 * How many more sockets this process may open: the soft open-file limit (`ulimit -n`, which Node raises to the hard
 * limit at startup on Linux) minus what is open now. Idle connections are the one load that can reach it.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface FdBudget {
  limit: number | null;
  open: number | null;
  /** Descriptors still free; Infinity where /proc cannot say. */
  free: number;
}

export function fdBudget(): FdBudget {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line ? Number(line.split(/\s{2,}/)[1]) : NaN;
    const open = readdirSync('/proc/self/fd').length;
    if (!Number.isFinite(soft)) return { limit: null, open, free: Infinity };
    return { limit: soft, open, free: Math.max(0, soft - open) };
  } catch {
    return { limit: null, open: null, free: Infinity };
  }
}
