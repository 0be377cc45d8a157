/** What the incremental parser (request-parser.ts) gives its caller: requests, or the fault to answer. */
export interface ParsedRequest {
  method: string;
  target: string;
  version: '1.0' | '1.1';
  /** In arrival order; names lower-cased, values with surrounding whitespace trimmed. */
  headers: [name: string, value: string][];
  body: Buffer;
  keepAlive: boolean;
  /** The SEND_TIME_HEADER's value (µs on the host's monotonic clock), 0 when absent or not a number. */
  sendTimeUs: number;
}

export interface ParseError {
  status: 400 | 413 | 431 | 501;
  reason: string;
}

export interface ParserLimits {
  /** Request line, headers and trailers together, line ends included; beyond it: 431. */
  maxHeaderBytes: number;
  /** Decoded body (Content-Length, or the sum of the chunks); beyond it: 413. */
  maxBodyBytes: number;
}

export const DEFAULT_PARSER_LIMITS: Readonly<ParserLimits> = { maxHeaderBytes: 16384, maxBodyBytes: 1024 * 1024 };
