/**
 * The note beside a downstream figure that holds the wait for a busy event loop (downstream_includes_loop_wait):
 * the agent sees, from user space, when a reply was taken up, not when it arrived. Words wrapped to `width`.
 */
import { wrap } from './table.js';
import type { ModelCosts } from '../analysis/model-costs.js';

interface Phase extends Pick<ModelCosts, 'eventloop_delay_ms'> {
  name: string;
  parts_ms: { downstream: number | null };
  downstream_includes_loop_wait: boolean;
}

export function loopWaitNotes(phases: readonly Phase[], width = Infinity): string[] {
  return phases
    .filter((p) => p.downstream_includes_loop_wait)
    .flatMap((p) =>
      wrap(
        `note: in phase ${p.name} downstream (${p.parts_ms.downstream?.toFixed(2)} ms) includes the time each reply waited for the busy ` +
          `event loop (loop delay p50 ${p.eventloop_delay_ms?.p50.toFixed(2)} ms, p99 ${p.eventloop_delay_ms?.p99.toFixed(2)} ms): from user ` +
          `space the agent cannot tell the two apart.`,
        width,
        '  ',
      ),
    );
}
