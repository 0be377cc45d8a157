/**
 * The bytes of one request, written by hand: everything constant is joined once, and per request only the trace
 * ids and the send time are appended. The send-time header goes last so that the clock is read after all the
 * string work, immediately before the write (see Connection.send).
 */
import { randomBytes } from 'node:crypto';
import { SEND_TIME_HEADER, TRACEPARENT_HEADER } from '../../vocabulary/parts.js';
import type { GeneratorConfig } from '../config.js';

/** Methods that carry no body by convention; others get `content-length: 0` so servers need not guess. */
const BODYLESS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE']);

export interface RequestShape {
  host: string;
  port: number;
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** Ask the server to close after the response (one request per connection). */
  close?: boolean;
}

export class RequestBytes {
  /** The request line and headers up to the trace id's counter part. */
  private readonly prefix: string;
  private readonly spanPrefix: string;
  private counter = 0;
  /** HEAD responses have headers only; the parser must not wait for a body. */
  readonly expectBody: boolean;

  constructor(shape: RequestShape) {
    const { method, path, headers = {} } = shape;
    const names = new Set(Object.keys(headers).map((h) => h.toLowerCase()));
    let head = `${method} ${path} HTTP/1.1\r\n`;
    if (!names.has('host')) head += `host: ${shape.host}:${shape.port}\r\n`;
    if (!BODYLESS.has(method.toUpperCase()) && !names.has('content-length')) head += 'content-length: 0\r\n';
    if (shape.close && !names.has('connection')) head += 'connection: close\r\n';
    for (const [name, value] of Object.entries(headers)) {
      // Ours are per request; a user's copy would be a second, conflicting value.
      if (name.toLowerCase() !== TRACEPARENT_HEADER && name.toLowerCase() !== SEND_TIME_HEADER) head += `${name}: ${value}\r\n`;
    }
    // W3C trace context: 16-byte trace id, 8-byte span id, lowercase hex, not all zero. A random per-instance
    // prefix plus a counter is unique across generator processes and threads without a random draw per request.
    const random = randomBytes(12).toString('hex');
    this.prefix = `${head}${TRACEPARENT_HEADER}: 00-${random.slice(0, 15)}1`;
    this.spanPrefix = `-${random.slice(16, 23)}1`;
    this.expectBody = method.toUpperCase() !== 'HEAD';
  }

  /** The next request, up to and including `<send-time header>: `; the caller appends the time and `\r\n\r\n`. */
  next(): string {
    const n = ++this.counter;
    const hex = n.toString(16);
    const low = (n % 0x1_0000_0000).toString(16);
    return `${this.prefix}${'0000000000000000'.slice(hex.length)}${hex}${this.spanPrefix}${'00000000'.slice(low.length)}${low}-01\r\n${SEND_TIME_HEADER}: `;
  }
}

/**
 * A mix entry's workload parameters in the query string: `/api?process_us=2000&backend_calls=2`. Names are the
 * scenario's workload fields, values plain numbers, so nothing needs escaping; a reference server reads them with
 * `new URL(req.url, 'http://x').searchParams` and lays them over its configured workload. The query string (not a
 * header) so that the same request can be typed into curl or any other load tool.
 */
export function workloadPath(path: string, workload: Readonly<Record<string, number>> | undefined): string {
  const pairs = Object.entries(workload ?? {}).map(([k, v]) => `${k}=${v}`);
  if (pairs.length === 0) return path;
  return `${path}${path.includes('?') ? '&' : '?'}${pairs.join('&')}`;
}

/** One RequestBytes per kind of request the config sends: each mix entry, or the single request. */
export function requestKinds(config: GeneratorConfig): RequestBytes[] {
  const base = { host: config.target.host, port: config.target.port, method: config.request.method, headers: config.request.headers, close: config.connection === 'new' };
  if (!config.mix) return [new RequestBytes({ ...base, path: config.request.path })];
  return config.mix.map((m) => new RequestBytes({ ...base, path: workloadPath(m.path ?? config.request.path, m.workload) }));
}
