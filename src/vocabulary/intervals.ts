/**
 * Bounds of one timeline interval, ms, shared by the scenario's `interval_ms`, the agent's SRVLENS_INTERVAL_MS and
 * the dashboard's collector: a collector on another grid than its agents sees nothing. Below 100 ms the per-interval
 * export and /proc sampling cost more than they measure; above a minute a run shows too few frames to read a trend.
 */
export const MIN_INTERVAL_MS = 100;
export const MAX_INTERVAL_MS = 60_000;
/** The interval everyone uses unless told otherwise: a collector and agents left at their defaults share a grid. */
export const DEFAULT_INTERVAL_MS = 1000;
