/**
 * What als-cost says to its preload over IPC, and the answers. A module of its own because importing the preload
 * would subscribe its importer to the channels.
 */

/** Ends the current window and turns the storage on or off for the next one. */
export interface AlsToggle {
  type: 'als-cost-toggle';
  on: boolean;
}

/** Asks for the counts (ALS_COST_MODE=count). */
export const ALS_COUNT_QUERY = 'als-cost-count?';

/** Totals since the app started, at the moment of a toggle: the bench takes differences. */
export interface AlsWindowReport {
  type: 'als-cost-window';
  /** process.cpuUsage(), user + system, µs: all the app's threads. */
  cpuUs: number;
  /** Server requests started. */
  requests: number;
  /** Outgoing calls (node:http and fetch), and those made with the store in context. */
  calls: number;
  inRequest: number;
}

export interface AlsCountReport {
  type: 'als-cost-count';
  calls: number;
  /** Async resources created, by type (PROMISE, TCPWRAP, ...). */
  resources: Record<string, number>;
  /** Promise reactions run (an await resuming, a then callback). */
  promiseReactions: number;
}
