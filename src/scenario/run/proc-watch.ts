/**
 * The /proc agent watching the server under test for a whole run: per interval, the accept queue of its listening
 * sockets (connections the kernel completed that no thread or process has accepted yet), and at the end the model
 * it names from what it saw, with the evidence. It works on any server, whatever its language, with or without the
 * in-process agent. Sampling costs the runner a few percent of a core (the TCP tables are the dear part). For a
 * server without the agent, the same snapshots also give its per-interval CPU and context switches (`contexts`).
 */
import { detectModel, type ModelFinding } from '../../analysis/detect-model.js';
import { TCP_LISTEN } from '../../../agents/proc/proc-parse.js';
import { sampleTree } from '../../../agents/proc/sample-tree.js';
import type { TreeSnapshot } from '../../../agents/proc/tree-snapshot.js';
import type { WindowSummary } from '../../vocabulary/window-summary.js';
import type { ProcContexts } from '../external/proc-contexts.js';
import { intervalIndex, monoMs, type AcceptQueueInterval } from '../../vocabulary/index.js';

const SAMPLE_MS = 250;

export interface ProcWatch {
  /** Stops sampling; resolves with the model named from the whole window (null when the server was gone). */
  stop(): Promise<{ finding: ModelFinding; window: WindowSummary } | null>;
}

export function watchServer(
  pid: number,
  intervalMs: number,
  onInterval: (index: number, q: AcceptQueueInterval) => void,
  contexts?: ProcContexts,
): ProcWatch {
  const controller = new AbortController();
  let current: { index: number; max: number; sum: number; samples: number } | null = null;
  const flush = () => {
    if (current && current.samples > 0) onInterval(current.index, { length_max: current.max, length_mean: current.sum / current.samples, samples: current.samples });
  };
  const onSnapshot = (_elapsed: number, snap: TreeSnapshot) => {
    // at_ms is this process's performance.now() when the reading began; intervals are on the shared clock.
    contexts?.add(snap, monoMs() - (performance.now() - snap.at_ms));
    if (snap.tcp === null) return;
    const length = snap.tcp.filter((e) => e.state === TCP_LISTEN).reduce((s, e) => s + e.rx_queue, 0);
    const index = intervalIndex(monoMs(), intervalMs);
    if (!current || current.index !== index) {
      flush();
      current = { index, max: 0, sum: 0, samples: 0 };
    }
    current.max = Math.max(current.max, length);
    current.sum += length;
    current.samples++;
  };
  const window = sampleTree({ pid, durationMs: 24 * 3600 * 1000, intervalMs: SAMPLE_MS, onSnapshot, signal: controller.signal });
  window.catch(() => undefined);
  return {
    async stop() {
      controller.abort();
      flush();
      try {
        const w = await window;
        return { finding: detectModel(w), window: w };
      } catch {
        return null;
      }
    },
  };
}
