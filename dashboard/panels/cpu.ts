/**
 * The CPU the whole tree used, in cores: what the Run view shows where the request rate would be when requests are
 * not seen (`srvlens attach --dashboard`, from /proc).
 */
import { intervalServerStats } from '../../src/analysis/server-stats.js';
import { lastOf, type PanelInput } from './input.js';

export interface CpuPanel {
  /** The cursor's interval, the window, and each interval of the series, in cores (1 = one core all the time). */
  now_cores: number | null;
  window_cores: number | null;
  cores: (number | null)[];
}

export function cpuPanel({ frames, server }: PanelInput): CpuPanel {
  const last = lastOf(frames);
  return {
    now_cores: last ? intervalServerStats(last).cpu_cores : null,
    window_cores: server?.cpu_cores ?? null,
    cores: frames.map((f) => intervalServerStats(f).cpu_cores),
  };
}
