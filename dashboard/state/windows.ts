/**
 * How much of a run each view looks at. Both bound the work of one render and the memory of the live store,
 * whatever the length of the run.
 */

/**
 * Intervals of history behind the cursor in the Run view's series: the widest sparkline drawn (a 240-column
 * terminal gives the throughput panel about 110 columns of it). Per-interval figures are computed once per frame.
 */
export const CHART_WINDOW = 120;

/**
 * Intervals a phase's figures (decomposition, p99, costs per request) are taken over, at most: the last ones of the
 * phase up to the cursor. They are recomputed for the server whose window moves at every interval, and that is
 * the dominant cost of a render: phaseStats merges the window's HDR histograms, and each merge walks all ~28k
 * buckets of the generator's histograms (3 significant digits). Measured by bench/dashboard-render.ts on a loaded
 * 2-core host: 30 intervals 8 ms, 10 intervals 2.7 ms, against 2.3 ms for drawing the whole screen.
 * Ten intervals (10 s at the default 1 s) still hold thousands of requests at the rates phases run at, and follow
 * a change of load within 10 s. Phases of up to 10 intervals (the quickstart's 8) are taken whole, so their
 * figures at the phase's last interval are exactly what `srvlens report` prints; the other servers' windows are
 * computed once and cached.
 */
export const PHASE_WINDOW = 10;
