/**
 * An incremental HTTP/1.1 request parser, written by us because it is the point of the event-loop-raw model: all of
 * a connection's parsing state lives in this object, and `push` advances it on whatever bytes arrived (one byte or
 * ten pipelined requests), returning to the caller in between: the lecture's stack-ripped style.
 *
 * Memory is bounded on any input: the only bytes kept are an incomplete line (at most the header limit) and the
 * body of the request in progress (at most the body limit). `push` copies what it keeps, so a caller may reuse its
 * read buffer. Nothing here throws on input: every fault becomes a ParseError with the status to answer.
 *
 * The state machine stays in one file, over 300 lines: its states share the fields below, and a reader follows a
 * request through them in order.
 */
import { SEND_TIME_HEADER } from '../../vocabulary/parts.js';
import { CR, hasControl, isToken, isWs, LF } from './http-syntax.js';
import { DEFAULT_PARSER_LIMITS, type ParsedRequest, type ParseError, type ParserLimits } from './parsed-request.js';

/** A chunk-size line with extensions longer than this is not a real client (nginx and node allow far less). */
const MAX_CHUNK_LINE = 4096;
/** More hex digits than this cannot be a size under any body limit we accept (2^52 is still exact). */
const MAX_SIZE_DIGITS = 13;

const enum State {
  RequestLine,
  Header,
  Body,
  ChunkSize,
  ChunkData,
  /** The CRLF after a chunk's data: a "line" that must be empty. */
  ChunkDataEnd,
  Trailer,
  /** The last request said Connection: close; what follows is not served, so it is not kept either. */
  Closed,
  Failed,
}

const EMPTY = Buffer.alloc(0);

export class RequestParser {
  private readonly limits: ParserLimits;
  private state = State.RequestLine;
  private err: ParseError | null = null;

  /** An incomplete line carried over to the next push, in a buffer that grows by doubling up to the line's limit. */
  private acc: Buffer = EMPTY;
  private accLen = 0;
  /** Head bytes (request line, headers, trailers) of the request in progress, for the 431 limit. */
  private headBytes = 0;

  // The request in progress.
  private method = '';
  private target = '';
  private version: '1.0' | '1.1' = '1.1';
  private headers: [string, string][] = [];
  /** Content-Length body: allocated at the end of the head (bounded by maxBodyBytes) and filled in place. */
  private clBody: Buffer = EMPTY;
  /** Chunked body: copies of the chunks' data, joined when the request completes. */
  private chunks: Buffer[] = [];
  private bodyLen = 0;
  /** Bytes still to come of the Content-Length body or of the current chunk. */
  private remaining = 0;
  private chunked = false;

  constructor(limits: Partial<ParserLimits> = {}) {
    this.limits = { ...DEFAULT_PARSER_LIMITS, ...limits };
  }

  get error(): ParseError | null {
    return this.err;
  }

  /** Bytes kept for the incomplete request: a partial line and the body received so far. */
  get buffered(): number {
    return this.accLen + this.bodyLen;
  }

  /**
   * Consumes bytes; returns the requests they completed (0..n, pipelining), in order. The push that meets an error
   * still returns the requests completed before it (serve them, then answer `error.status` and close); every later
   * push returns []. After a request with keepAlive false, later bytes are discarded: the connection ends with that
   * response. The result over a byte stream does not depend on how it is split into pushes.
   */
  push(chunk: Buffer): ParsedRequest[] {
    const out: ParsedRequest[] = [];
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      const state = this.state;
      if (state === State.Closed || state === State.Failed) break;
      if (state === State.Body || state === State.ChunkData) {
        pos = this.takeBody(chunk, pos, out);
        continue;
      }
      const nl = chunk.indexOf(LF, pos);
      const lineEnd = nl < 0 ? end : nl + 1;
      // Checked on partial lines too, so that a line without end cannot grow memory; a partial line is never
      // longer than the whole, so the outcome does not depend on where the stream was split.
      if (!this.withinLineLimit(lineEnd - pos)) break;
      if (nl < 0) {
        this.keep(chunk, pos, end);
        break;
      }
      if (this.accLen > 0) {
        this.keep(chunk, pos, lineEnd);
        this.onLine(this.acc, 0, this.accLen, out);
        this.accLen = 0;
      } else {
        this.onLine(chunk, pos, lineEnd, out);
      }
      pos = lineEnd;
    }
    return out;
  }

  private fail(status: ParseError['status'], reason: string): void {
    this.err = { status, reason };
    this.state = State.Failed;
    this.acc = EMPTY;
    this.accLen = 0;
    this.dropBody();
  }

  private dropBody(): void {
    this.clBody = EMPTY;
    this.chunks = [];
    this.bodyLen = 0;
  }

  /** Counts `n` more bytes of the current line against its state's limit; false (and failed) when over. */
  private withinLineLimit(n: number): boolean {
    switch (this.state) {
      case State.RequestLine:
      case State.Header:
      case State.Trailer:
        // A partial line is counted again when it completes, so count it provisionally here.
        if (this.headBytes + this.accLen + n > this.limits.maxHeaderBytes) {
          this.fail(431, `request head over ${this.limits.maxHeaderBytes} bytes`);
          return false;
        }
        return true;
      case State.ChunkSize:
        if (this.accLen + n > MAX_CHUNK_LINE) {
          this.fail(400, `chunk-size line over ${MAX_CHUNK_LINE} bytes`);
          return false;
        }
        return true;
      default: // ChunkDataEnd: CRLF or LF, nothing else
        if (this.accLen + n > 2) {
          this.fail(400, 'chunk data not followed by CRLF');
          return false;
        }
        return true;
    }
  }

  private keep(src: Buffer, start: number, end: number): void {
    const need = this.accLen + (end - start);
    if (need > this.acc.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, Math.min(2 * this.acc.length, this.limits.maxHeaderBytes), 256));
      this.acc.copy(grown, 0, 0, this.accLen);
      this.acc = grown;
    }
    src.copy(this.acc, this.accLen, start, end);
    this.accLen = need;
  }

  /** One complete line, `b[start, end)` including its LF; the line end is CRLF or a bare LF (RFC 9112 2.2). */
  private onLine(b: Buffer, start: number, end: number, out: ParsedRequest[]): void {
    const lineLength = end - start;
    let stop = end - 1;
    if (stop > start && b[stop - 1] === CR) stop--;
    switch (this.state) {
      case State.RequestLine:
        this.headBytes += lineLength;
        // RFC 9112 2.2: a server SHOULD ignore empty lines received before the request line.
        if (stop > start) this.requestLine(b, start, stop);
        return;
      case State.Header:
        this.headBytes += lineLength;
        if (stop === start) this.endOfHead(out);
        else this.headerLine(b, start, stop);
        return;
      case State.ChunkSize:
        this.chunkSizeLine(b, start, stop, out);
        return;
      case State.ChunkDataEnd:
        if (stop !== start) this.fail(400, 'chunk data not followed by CRLF');
        else this.state = State.ChunkSize;
        return;
      case State.Trailer:
        this.headBytes += lineLength;
        if (stop === start) this.complete(out);
        // Trailers are checked like headers and then dropped: nothing in the workload reads them.
        else if (this.splitField(b, start, stop) === null) this.fail(400, 'malformed trailer field');
        return;
    }
  }

  private requestLine(b: Buffer, start: number, stop: number): void {
    const sp1 = b.indexOf(0x20, start);
    const sp2 = sp1 < 0 || sp1 >= stop ? -1 : b.indexOf(0x20, sp1 + 1);
    if (sp1 < 0 || sp2 < 0 || sp2 >= stop || !isToken(b, start, sp1)) {
      this.fail(400, 'malformed request line');
      return;
    }
    for (let i = sp1 + 1; i < sp2; i++) {
      const c = b[i];
      if (c <= 0x20 || c === 0x7f) {
        this.fail(400, 'malformed request target');
        return;
      }
    }
    if (sp2 === sp1 + 1) {
      this.fail(400, 'empty request target');
      return;
    }
    const version = b.toString('latin1', sp2 + 1, stop);
    if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') {
      this.fail(400, `unsupported protocol version ${JSON.stringify(version.slice(0, 20))}`);
      return;
    }
    this.method = b.toString('latin1', start, sp1);
    this.target = b.toString('latin1', sp1 + 1, sp2);
    this.version = version === 'HTTP/1.1' ? '1.1' : '1.0';
    this.headers = [];
    this.state = State.Header;
  }

  /** `name: value` as a pair, or null when malformed (no colon, a bad name, whitespace before the colon, a control byte). */
  private splitField(b: Buffer, start: number, stop: number): [string, string] | null {
    // A line starting with whitespace is obs-fold, which RFC 9112 5.2 lets a server reject: isToken does.
    const colon = b.indexOf(0x3a, start);
    if (colon < 0 || colon >= stop || !isToken(b, start, colon)) return null;
    let vs = colon + 1;
    let ve = stop;
    while (vs < ve && isWs(b[vs])) vs++;
    while (ve > vs && isWs(b[ve - 1])) ve--;
    if (hasControl(b, vs, ve)) return null;
    return [b.toString('latin1', start, colon).toLowerCase(), b.toString('latin1', vs, ve)];
  }

  private headerLine(b: Buffer, start: number, stop: number): void {
    const field = this.splitField(b, start, stop);
    if (field === null) this.fail(400, 'malformed header field');
    else this.headers.push(field);
  }

  /** The empty line after the headers: decides the body's framing (RFC 9112 6.3) and whether the connection stays. */
  private endOfHead(out: ParsedRequest[]): void {
    let contentLength = -1;
    let transferEncoding: string | null = null;
    for (const [name, value] of this.headers) {
      if (name === 'content-length') {
        // Repeated or listed values are allowed only when they all agree (RFC 9110 8.6).
        for (const part of value.split(',')) {
          const v = part.trim();
          if (!/^[0-9]+$/.test(v)) return this.fail(400, `invalid Content-Length ${JSON.stringify(value.slice(0, 40))}`);
          const n = v.length > 16 ? Infinity : Number(v);
          if (contentLength >= 0 && n !== contentLength) return this.fail(400, 'conflicting Content-Length values');
          contentLength = n;
        }
      } else if (name === 'transfer-encoding') {
        transferEncoding = transferEncoding === null ? value : `${transferEncoding},${value}`;
      }
    }
    if (transferEncoding !== null) {
      // Both framings at once is the request-smuggling shape: refuse rather than pick one (RFC 9112 6.1).
      if (contentLength >= 0) return this.fail(400, 'both Content-Length and Transfer-Encoding');
      const codings = transferEncoding
        .split(',')
        .map((c) => c.trim().toLowerCase())
        .filter((c) => c !== '');
      const unknown = codings.find((c) => c !== 'chunked');
      if (unknown !== undefined) return this.fail(501, `unsupported transfer coding ${JSON.stringify(unknown.slice(0, 40))}`);
      if (codings.length !== 1) return this.fail(400, 'Transfer-Encoding must be exactly "chunked"');
      this.chunked = true;
      this.state = State.ChunkSize;
      return;
    }
    this.chunked = false;
    if (contentLength > this.limits.maxBodyBytes) {
      return this.fail(413, `body of ${contentLength} bytes over the limit of ${this.limits.maxBodyBytes}`);
    }
    if (contentLength > 0) {
      this.clBody = Buffer.allocUnsafe(contentLength);
      this.remaining = contentLength;
      this.state = State.Body;
      return;
    }
    this.complete(out);
  }

  private chunkSizeLine(b: Buffer, start: number, stop: number, out: ParsedRequest[]): void {
    let i = start;
    let size = 0;
    while (i < stop) {
      const c = b[i];
      const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
      if (d < 0) break;
      size = size * 16 + d;
      i++;
    }
    const digits = i - start;
    while (i < stop && isWs(b[i])) i++;
    // After the size only a chunk extension may follow (";name=value", content unchecked but free of control bytes).
    if (digits === 0 || (i < stop && b[i] !== 0x3b) || hasControl(b, i, stop)) {
      return this.fail(400, 'malformed chunk size');
    }
    if (digits > MAX_SIZE_DIGITS || this.bodyLen + size > this.limits.maxBodyBytes) {
      return this.fail(413, `chunked body over the limit of ${this.limits.maxBodyBytes} bytes`);
    }
    if (size === 0) {
      this.state = State.Trailer;
      return;
    }
    this.remaining = size;
    this.state = State.ChunkData;
  }

  /** Copies up to `remaining` body bytes from `b` at `pos`; returns the new position. */
  private takeBody(b: Buffer, pos: number, out: ParsedRequest[]): number {
    const n = Math.min(this.remaining, b.length - pos);
    if (this.chunked) {
      this.chunks.push(Buffer.from(b.subarray(pos, pos + n)));
    } else {
      b.copy(this.clBody, this.bodyLen, pos, pos + n);
    }
    this.bodyLen += n;
    this.remaining -= n;
    if (this.remaining === 0) {
      if (this.chunked) this.state = State.ChunkDataEnd;
      else this.complete(out);
    }
    return pos + n;
  }

  private complete(out: ParsedRequest[]): void {
    const headers = this.headers;
    let close = false;
    let keepAliveToken = false;
    let sendTimeUs = 0;
    for (const [name, value] of headers) {
      if (name === 'connection') {
        for (const token of value.toLowerCase().split(',')) {
          const t = token.trim();
          if (t === 'close') close = true;
          else if (t === 'keep-alive') keepAliveToken = true;
        }
      } else if (name === SEND_TIME_HEADER) {
        const v = Number(value);
        sendTimeUs = Number.isFinite(v) && v > 0 ? v : 0;
      }
    }
    const keepAlive = !close && (this.version === '1.1' || keepAliveToken);
    const body = this.chunked ? (this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.bodyLen)) : this.clBody;
    out.push({ method: this.method, target: this.target, version: this.version, headers, body, keepAlive, sendTimeUs });
    this.headers = [];
    this.dropBody();
    this.headBytes = 0;
    this.state = keepAlive ? State.RequestLine : State.Closed;
  }
}
