/**
 * The generator's self-monitor flags, shared by the generator that sets them and the verdicts that read them (an
 * interval in which the generator could not keep up is its own, not the server's).
 */

/**
 * Share of one core above which the generator counts as CPU-bound. Its JavaScript runs on one thread: at 90 %
 * the loop has no slack left, so timers and socket reads queue behind its own work and every latency it measures
 * grows by that queueing. (cpuUsage also counts libuv and GC helper threads, so it can exceed 100 %.)
 */
export const CPU_SATURATION_SHARE = 0.9;
