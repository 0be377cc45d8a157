/** The bytes HTTP/1.1's grammar tells apart (RFC 9110, RFC 9112), as the parser's hot path tests them. */
export const LF = 0x0a;
export const CR = 0x0d;

// RFC 9110 5.6.2 tchar, as a lookup table: the hot path tests one byte per array read.
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

export function isToken(b: Buffer, start: number, end: number): boolean {
  if (start >= end) return false;
  for (let i = start; i < end; i++) if (TCHAR[b[i]] === 0) return false;
  return true;
}

/** Field values and chunk extensions: visible bytes, SP, HTAB and obs-text; no other control byte (NUL, bare CR). */
export function hasControl(b: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = b[i];
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}

export function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09;
}
