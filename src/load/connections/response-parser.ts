/**
 * Incremental HTTP/1.x response parser for the generator's hot path. It reads only what the generator needs —
 * status, framing (Content-Length, chunked, until close) and whether the connection stays open — and skips body
 * bytes without copying them. Any split of the input gives the same result (tested over every split point).
 */

/** `execute` results besides an offset: the response needs more bytes, or the bytes are not HTTP. */
export const PARSE_MORE = -1;
export const PARSE_ERROR = -2;

const STATUS = 0;
const HEADERS = 1;
const BODY = 2;
const CHUNK_SIZE = 3;
const CHUNK_DATA = 4;
const CHUNK_END = 5;
const TRAILERS = 6;
const UNTIL_CLOSE = 7;

/** Status line plus headers larger than this are taken as a broken server, not buffered forever. */
const MAX_HEAD_BYTES = 64 * 1024;

export class ResponseParser {
  status = 0;
  keepAlive = true;
  private state = STATUS;
  private expectBody = true;
  private remaining = 0;
  private chunked = false;
  private contentLength = -1;
  /** A line split across reads; rare, so a string is fine. */
  private partial = '';
  private headBytes = 0;

  /** Prepare for the response to the request just written. */
  reset(expectBody: boolean): void {
    this.status = 0;
    this.keepAlive = true;
    this.state = STATUS;
    this.expectBody = expectBody;
    this.chunked = false;
    this.contentLength = -1;
    this.partial = '';
    this.headBytes = 0;
  }

  /** True when the response is one whose body ends with the connection (no length, not chunked). */
  get endsOnClose(): boolean {
    return this.state === UNTIL_CLOSE;
  }

  /**
   * Feeds bytes `buf[0, end)`. Returns PARSE_MORE, PARSE_ERROR, or the offset just past the response's last byte
   * (bytes after it would be a response nobody asked for: the caller decides).
   */
  execute(buf: Buffer, end = buf.length): number {
    let pos = 0;
    const len = end;
    while (pos < len) {
      const state = this.state;
      if (state === BODY || state === CHUNK_DATA) {
        const take = Math.min(this.remaining, len - pos);
        this.remaining -= take;
        pos += take;
        if (this.remaining === 0) {
          if (state === BODY) return pos;
          this.state = CHUNK_END;
        }
        continue;
      }
      if (state === UNTIL_CLOSE) return PARSE_MORE;
      // A shared read buffer holds stale bytes past `len`: a newline there is not this response's.
      const nl = buf.indexOf(10, pos);
      if (nl === -1 || nl >= len) {
        this.headBytes += len - pos;
        if (this.headBytes > MAX_HEAD_BYTES) return PARSE_ERROR;
        this.partial += buf.toString('latin1', pos, len);
        return PARSE_MORE;
      }
      let line = buf.toString('latin1', pos, nl > pos && buf[nl - 1] === 13 ? nl - 1 : nl);
      this.headBytes += nl + 1 - pos;
      pos = nl + 1;
      if (this.partial !== '') {
        line = this.partial + line;
        this.partial = '';
        if (line.endsWith('\r')) line = line.slice(0, -1);
      }
      if (this.headBytes > MAX_HEAD_BYTES) return PARSE_ERROR;
      const done = this.line(line);
      if (done === PARSE_ERROR) return PARSE_ERROR;
      if (done === 1) return pos;
      // The head limit is for the status line and headers; a long chunked body has many size lines.
      if (this.state > HEADERS) this.headBytes = 0;
    }
    return PARSE_MORE;
  }

  /** One line of the head, a chunk size, or a trailer. Returns 1 when the response is complete. */
  private line(line: string): number {
    switch (this.state) {
      case STATUS: {
        // "HTTP/1.1 200 OK": the minor version decides the keep-alive default.
        if (!line.startsWith('HTTP/1.') || line.length < 12) return PARSE_ERROR;
        this.status = +line.slice(9, 12);
        if (!(this.status >= 100 && this.status <= 999)) return PARSE_ERROR;
        this.keepAlive = line.charCodeAt(7) === 49; // '1'
        this.state = HEADERS;
        return 0;
      }
      case HEADERS:
        return line === '' ? this.endOfHead() : this.header(line);
      case CHUNK_SIZE: {
        const size = parseInt(line, 16); // extensions after ';' are ignored by parseInt
        if (!(size >= 0)) return PARSE_ERROR;
        if (size === 0) this.state = TRAILERS;
        else {
          this.remaining = size;
          this.state = CHUNK_DATA;
        }
        return 0;
      }
      case CHUNK_END:
        if (line !== '') return PARSE_ERROR;
        this.state = CHUNK_SIZE;
        return 0;
      case TRAILERS:
        return line === '' ? 1 : 0;
      default:
        return PARSE_ERROR;
    }
  }

  private header(line: string): number {
    const colon = line.indexOf(':');
    if (colon <= 0) return PARSE_ERROR;
    // Lower-case only names of the lengths we care about: most headers are skipped on one comparison.
    if (colon !== 14 && colon !== 17 && colon !== 10) return 0;
    const name = line.slice(0, colon).toLowerCase();
    if (name === 'content-length') {
      const n = +line.slice(colon + 1).trim();
      if (!Number.isSafeInteger(n) || n < 0) return PARSE_ERROR;
      this.contentLength = n;
    } else if (name === 'transfer-encoding') {
      this.chunked = line.slice(colon + 1).toLowerCase().includes('chunked');
    } else if (name === 'connection') {
      const v = line.slice(colon + 1).toLowerCase();
      if (v.includes('close')) this.keepAlive = false;
      else if (v.includes('keep-alive')) this.keepAlive = true;
    }
    return 0;
  }

  private endOfHead(): number {
    const s = this.status;
    if (s < 200) {
      // 100 Continue, 103 Early Hints: an interim response; the real one follows on the same connection.
      this.reset(this.expectBody);
      return 0;
    }
    if (!this.expectBody || s === 204 || s === 304) return 1;
    if (this.chunked) {
      this.state = CHUNK_SIZE;
      return 0;
    }
    if (this.contentLength >= 0) {
      if (this.contentLength === 0) return 1;
      this.remaining = this.contentLength;
      this.state = BODY;
      return 0;
    }
    this.keepAlive = false;
    this.state = UNTIL_CLOSE;
    return 0;
  }
}
