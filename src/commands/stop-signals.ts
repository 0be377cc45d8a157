/**
 * SIGINT and SIGTERM, trapped for the length of a command: each calls `on` (the command then stops in order and
 * keeps what it recorded) instead of ending the process, or, in a blessed screen, instead of blessed's own handler
 * (which would exit 0). Call the returned function to put Node's defaults back.
 *
 * A screen must be destroyed on a later turn than `on`'s, not within it: destroying blessed's last screen removes
 * its handler, which Node still calls for this signal, and it would then see ours as the only one and exit 0.
 */
export function trapStopSignals(on: (sig: NodeJS.Signals) => void): () => void {
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return () => {
    process.off('SIGINT', on);
    process.off('SIGTERM', on);
  };
}
