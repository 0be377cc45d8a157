/**
 * HTTP/1.1 responses as bytes, for the models that own their sockets (event-loop-raw and the blocking models):
 * one buffer per response, so that one write hands the whole of it to the kernel and its callback marks the end.
 */
import { STATUS_CODES } from 'node:http';
import type { ParseError } from './parsed-request.js';

/**
 * The whole response: status line, Content-Type, Content-Length, Connection, any `extraHeaders`, then the body.
 * `keepAlive` false says `Connection: close`, and the caller closes after writing it.
 */
export function formatResponse(
  status: number,
  body: Buffer,
  keepAlive: boolean,
  contentType = 'application/octet-stream',
  extraHeaders: readonly [name: string, value: string][] = [],
): Buffer {
  let head =
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n` +
    `content-type: ${contentType}\r\ncontent-length: ${body.length}\r\n` +
    `connection: ${keepAlive ? 'keep-alive' : 'close'}\r\n`;
  for (const [name, value] of extraHeaders) head += `${name}: ${value}\r\n`;
  head += '\r\n';
  const headBytes = Buffer.byteLength(head, 'latin1');
  const out = Buffer.allocUnsafe(headBytes + body.length);
  out.write(head, 0, 'latin1');
  body.copy(out, headBytes);
  return out;
}

/** The answer to a request the parser refused: its status, the reason as text, and `Connection: close`. */
export function errorResponse(err: ParseError): Buffer {
  return formatResponse(err.status, Buffer.from(`${err.reason}\n`, 'latin1'), false, 'text/plain');
}
