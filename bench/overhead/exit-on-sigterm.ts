/**
 * Preloaded into a server started with --cpu-prof (agent-overhead --cpu-prof): V8 writes a thread's profile when
 * the thread exits normally, and the bench stops its servers with SIGTERM, whose default action ends the process
 * without one. Exiting on it instead writes them.
 */
process.once('SIGTERM', () => process.exit(0));
