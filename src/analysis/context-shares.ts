/**
 * Where a step's CPU went, by context: each group of like contexts (a pool's threads, a prefork's processes, the
 * connections' threads or children), its CPU in cores busy and its run-queue wait in contexts waiting, both over the step's wall time. Contexts
 * whose names differ only in a number (pool-3, conn-118) are one group, counted, so a thousand short-lived children
 * are one row and a pool's imbalance shows in the agent's own per-thread view (the dashboard), not here.
 */
import type { Frame } from '../vocabulary/index.js';
import { round, sum } from './numbers.js';

export interface ContextGroup {
  /** The contexts' name with its number as '#' (pool-#), as the agents name them. */
  name: string;
  role: string;
  /** Distinct contexts seen in the step. */
  contexts: number;
  /** CPU (user + system) over the step's wall time: 1 is one core busy throughout. */
  cpu_cores: number;
  /**
   * Run-queue wait over the step's wall time: how many of the group's contexts were, on average, runnable but waiting
   * for a core (it passes the cores where many wait at once); null where no context's schedstat was read.
   */
  runqueue_waiting: number | null;
}

export function contextGroups(frames: readonly Frame[]): ContextGroup[] {
  const wallMs = sum(frames, (f) => f.interval_ms);
  if (wallMs <= 0) return [];
  const groups = new Map<string, { name: string; role: string; keys: Set<string>; cpu: number; runq: number; runqRead: boolean }>();
  for (const f of frames) {
    for (const c of f.contexts) {
      // The agents name a context "server:own"; the server is the run's.
      const name = c.name.slice(c.name.lastIndexOf(':') + 1).replace(/\d+/g, '#');
      const id = `${c.role}\u0000${name}`;
      let g = groups.get(id);
      if (!g) groups.set(id, (g = { name, role: c.role, keys: new Set(), cpu: 0, runq: 0, runqRead: false }));
      g.keys.add(c.key);
      g.cpu += c.cpu_user_ms + c.cpu_system_ms;
      if (c.runqueue_wait_ms !== null) {
        g.runq += c.runqueue_wait_ms;
        g.runqRead = true;
      }
    }
  }
  return [...groups.values()]
    .map((g) => ({ name: g.name, role: g.role, contexts: g.keys.size, cpu_cores: Number((g.cpu / wallMs).toFixed(3)), runqueue_waiting: g.runqRead ? round(g.runq / wallMs, 3) : null }))
    .sort((a, b) => b.cpu_cores - a.cpu_cores || a.name.localeCompare(b.name));
}
