/**
 * Splits a text stream into newline-terminated lines, for the backend protocol on both ends. Chunks arrive split
 * anywhere, so a line may span many chunks; a trailing '\r' is dropped so `nc` users can type requests by hand.
 */

/**
 * Returns a chunk handler that calls `onLine` for every complete line. It returns false once an unterminated line
 * grows past `maxLine` characters (the caller should drop the connection: a peer that never sends '\n').
 */
export function lineSplitter(onLine: (line: string) => void, maxLine = Infinity): (chunk: string) => boolean {
  let partial = '';
  return (chunk) => {
    let start = 0;
    let nl: number;
    while ((nl = chunk.indexOf('\n', start)) !== -1) {
      let line = partial === '' ? chunk.slice(start, nl) : partial + chunk.slice(start, nl);
      partial = '';
      if (line.endsWith('\r')) line = line.slice(0, -1);
      onLine(line);
      start = nl + 1;
    }
    if (start < chunk.length) partial += chunk.slice(start);
    return partial.length <= maxLine;
  };
}
