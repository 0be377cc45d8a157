/**
 * SIGINT and SIGTERM, trapped for the length of a command: each calls `on` (the command then stops in order and
 * keeps what it recorded) instead of ending the process, or, in a blessed screen, instead of blessed's own handler
 * (which would exit 0). Call the returned function to put Node's defaults back.
 *
 * A screen must be destroyed on a later turn than `on`'s, not within it: destroying blessed's last screen removes
 * its handler, which Node still calls for this signal, and it would then see ours as the only one and exit 0.
 *
 * Started by npm (`npx srvlens dashboard`, `npm exec`, a package script: npm sets npm_command), a SIGTERM sent to
 * npm never reaches us: npm 11 passes it to the `sh -c` it runs the command in, which dies of it without passing it
 * on, and npm exits. Measured here: `npx srvlens dashboard --out F` then `kill -TERM <npx>` left the dashboard
 * running, its port held and F without an end record. So under npm, losing the parent (we are re-parented) stops
 * the command as a signal would, as `SIGHUP` (the controlling side is gone); elsewhere a parent's end is no reason
 * to stop (`srvlens dashboard &` from a shell that then exits). Ctrl-C reaches every process of the terminal's
 * group, us included, with or without npm.
 */
/** How often the parent is checked under npm: a command stops within this of its launcher's end. */
const PARENT_POLL_MS = 200;

export function trapStopSignals(on: (sig: NodeJS.Signals) => void): () => void {
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  const parent = process.ppid;
  const watch =
    process.env.npm_command === undefined
      ? undefined
      : setInterval(() => {
          if (process.ppid === parent) return;
          clearInterval(watch);
          on('SIGHUP');
        }, PARENT_POLL_MS).unref();
  return () => {
    process.off('SIGINT', on);
    process.off('SIGTERM', on);
    clearInterval(watch);
  };
}

/** Resolves on the first SIGINT or SIGTERM (or, under npm, the parent's end): for commands that serve until stopped. */
export function untilStopped(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const release = trapStopSignals((sig) => {
      release();
      resolve(sig);
    });
  });
}
