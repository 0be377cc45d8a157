import { describe, expect, it } from 'vitest';
import { PARSE_ERROR, PARSE_MORE, ResponseParser } from '../../src/load/connections/response-parser.js';

/** Feeds `bytes` split at every pair of points (three pieces); every split must end the response at the same place. */
function parseAllSplits(text: string, expectBody = true): { status: number; keepAlive: boolean; end: number }[] {
  const bytes = Buffer.from(text, 'latin1');
  const results: { status: number; keepAlive: boolean; end: number }[] = [];
  for (let a = 0; a <= bytes.length; a++) {
    for (let b = a; b <= bytes.length; b += 7) {
      const p = new ResponseParser();
      p.reset(expectBody);
      let end = PARSE_MORE;
      let offset = 0;
      for (const piece of [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)]) {
        if (piece.length === 0) continue;
        const r = p.execute(piece);
        if (r === PARSE_ERROR) throw new Error(`parse error at split ${a}/${b}`);
        if (r >= 0) {
          end = offset + r;
          break;
        }
        offset += piece.length;
      }
      results.push({ status: p.status, keepAlive: p.keepAlive, end });
    }
  }
  return results;
}

describe('ResponseParser', () => {
  it('ends a Content-Length response after its body, for any split of the bytes', () => {
    const res = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world';
    for (const r of parseAllSplits(res + 'HTTP/1.1 200 OK')) expect(r).toEqual({ status: 200, keepAlive: true, end: res.length });
  });

  it('ends a chunked response after the last chunk and trailers, for any split', () => {
    const res = 'HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: 1\r\n\r\n';
    for (const r of parseAllSplits(res)) expect(r).toEqual({ status: 201, keepAlive: true, end: res.length });
  });

  it('reads keep-alive from the version and the Connection header', () => {
    const close = 'HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
    for (const r of parseAllSplits(close)) expect(r).toEqual({ status: 500, keepAlive: false, end: close.length });
    const http10 = 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok';
    for (const r of parseAllSplits(http10)) expect(r.keepAlive).toBe(false);
    const http10ka = 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok';
    for (const r of parseAllSplits(http10ka)) expect(r.keepAlive).toBe(true);
  });

  it('skips interim 1xx responses and expects no body for HEAD, 204 and 304', () => {
    const res = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n';
    for (const r of parseAllSplits(res)) expect(r).toEqual({ status: 204, keepAlive: true, end: res.length });
    const head = 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n';
    for (const r of parseAllSplits(head, false)) expect(r).toEqual({ status: 200, keepAlive: true, end: head.length });
  });

  it('waits for the close when a body has neither length nor chunking', () => {
    const p = new ResponseParser();
    p.reset(true);
    expect(p.execute(Buffer.from('HTTP/1.1 200 OK\r\n\r\nsome body'))).toBe(PARSE_MORE);
    expect(p.endsOnClose).toBe(true);
    expect(p.keepAlive).toBe(false);
  });

  it('rejects bytes that are not an HTTP response', () => {
    const p = new ResponseParser();
    p.reset(true);
    expect(p.execute(Buffer.from('SSH-2.0-OpenSSH_9.6\r\n'))).toBe(PARSE_ERROR);
    p.reset(true);
    expect(p.execute(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: -3\r\n\r\n'))).toBe(PARSE_ERROR);
    p.reset(true);
    expect(p.execute(Buffer.from('HTTP/1.1 200 OK\r\n' + 'x-pad: y\r\n'.repeat(10_000)))).toBe(PARSE_ERROR);
  });
});
