/**
 * What the overhead bench asks its prom-client preload over IPC, and the answer. A module of its own because
 * importing the preload would subscribe its histogram in whoever imports it.
 */
export const PROM_COUNT_QUERY = 'prom-count?';

export interface PromCountReport {
  type: 'prom-count';
  /** Observations of the request-duration histogram so far, over all its label sets. */
  observed: number;
}
