/**
 * Where requests wait in line: before the server accepts them (accept_queue), accepted but waiting for the handler
 * to run (server_queue), at the backend tier (beyond its concurrency limit), and at the client (due but not sent
 * for lack of a free connection). Times per request come from the phase window; lengths from the cursor's interval.
 */
import { lastOf, type PanelInput } from './input.js';

export interface QueuesPanel {
  accept_queue_ms: number | null;
  server_queue_ms: number | null;
  /**
   * The listening sockets' accept-queue length, the most seen in the cursor's interval (the /proc agent samples it
   * from /proc/net/tcp); null says "not sampled" rather than "empty".
   */
  accept_queue_length: number | null;
  backend: { queue_max: number; queue_mean: number; in_service_max: number; limit: number; mean_queue_ms: number | null } | null;
  client: { backlog: number; in_flight: number; connections: number } | null;
}

export function queuesPanel({ frames, phase, server }: PanelInput): QueuesPanel {
  const last = lastOf(frames);
  const b = last?.backend ?? null;
  const g = last?.generator ?? null;
  return {
    accept_queue_ms: (phase ?? server)?.parts_ms.accept_queue ?? null,
    server_queue_ms: (phase ?? server)?.parts_ms.server_queue ?? null,
    accept_queue_length: last?.accept_queue?.length_max ?? null,
    backend: b && { queue_max: b.queue_max, queue_mean: b.queue_mean, in_service_max: b.in_service_max, limit: b.limit, mean_queue_ms: phase?.backend?.mean_queue_ms ?? null },
    client: g && { backlog: g.backlog, in_flight: g.in_flight, connections: g.connections },
  };
}
