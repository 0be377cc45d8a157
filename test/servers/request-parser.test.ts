import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SEND_TIME_HEADER } from '../../src/vocabulary/parts.js';
import type { ParsedRequest } from '../../src/servers/http/parsed-request.js';
import { RequestParser } from '../../src/servers/http/request-parser.js';
import { errorResponse, formatResponse } from '../../src/servers/http/response.js';

/** What a test generates: one request and how it is framed on the wire. */
interface Spec {
  method: string;
  target: string;
  version: '1.0' | '1.1';
  headers: [string, string][];
  connection: 'none' | 'close' | 'keep-alive';
  sendTimeUs: number;
  body: Uint8Array;
  framing: 'none' | 'cl' | 'chunked';
  /** Chunk sizes summing to the body's length (chunked framing). */
  chunkCuts: number[];
  chunkExt: string;
  trailers: [string, string][];
  eol: '\r\n' | '\n';
}

const token = fc.stringMatching(/^[a-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
const value = fc.stringMatching(/^[!-~]([ -~]{0,20}[!-~])?$/);

const specArb: fc.Arbitrary<Spec> = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'X-CUSTOM'),
    target: fc.stringMatching(/^\/[a-zA-Z0-9/?=&%._~-]{0,30}$/),
    version: fc.constantFrom('1.0' as const, '1.1' as const),
    headers: fc.array(fc.tuple(token.map((t) => `x-${t}`), value), { maxLength: 6 }),
    connection: fc.constantFrom('none' as const, 'close' as const, 'keep-alive' as const),
    sendTimeUs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 ** 40 })),
    body: fc.uint8Array({ maxLength: 300 }),
    framing: fc.constantFrom('none' as const, 'cl' as const, 'chunked' as const),
    cuts: fc.array(fc.nat(300), { maxLength: 4 }),
    chunkExt: fc.constantFrom('', ';a=b', ' ;name="quoted"', ';x'),
    trailers: fc.array(fc.tuple(token.map((t) => `x-t-${t}`), value), { maxLength: 2 }),
    eol: fc.constantFrom('\r\n' as const, '\r\n' as const, '\n' as const),
  })
  .map(({ cuts, ...s }) => {
    const framing = s.framing === 'none' && s.body.length > 0 ? 'cl' : s.framing;
    const points = [...new Set(cuts.filter((c) => c > 0 && c < s.body.length))].sort((a, b) => a - b);
    const chunkCuts = [...points, s.body.length].map((p, i, all) => p - (i === 0 ? 0 : all[i - 1])).filter((n) => n > 0);
    return { ...s, framing, chunkCuts };
  });

function serialize(s: Spec): Buffer {
  const e = s.eol;
  let head = `${s.method} ${s.target} HTTP/${s.version}${e}`;
  for (const [n, v] of s.headers) head += `${n}: ${v}${e}`;
  if (s.connection !== 'none') head += `Connection: ${s.connection}${e}`;
  if (s.sendTimeUs > 0) head += `${SEND_TIME_HEADER}:${s.sendTimeUs}${e}`;
  if (s.framing === 'cl') head += `Content-Length: ${s.body.length}${e}`;
  if (s.framing !== 'chunked') return Buffer.concat([Buffer.from(`${head}${e}`, 'latin1'), s.body]);
  const parts: Uint8Array[] = [Buffer.from(`${head}Transfer-Encoding: chunked${e}${e}`, 'latin1')];
  let at = 0;
  for (const n of s.chunkCuts) {
    parts.push(Buffer.from(`${n.toString(16)}${s.chunkExt}${e}`), s.body.subarray(at, at + n), Buffer.from(e));
    at += n;
  }
  let tail = `0${s.chunkExt}${e}`;
  for (const [n, v] of s.trailers) tail += `${n}: ${v}${e}`;
  parts.push(Buffer.from(`${tail}${e}`, 'latin1'));
  return Buffer.concat(parts);
}

/** What the parser must return for `specs` sent in a row: up to and including the first that closes. */
function expected(specs: Spec[]): Partial<ParsedRequest>[] {
  const out: Partial<ParsedRequest>[] = [];
  for (const s of specs) {
    const keepAlive = s.connection === 'close' ? false : s.version === '1.1' || s.connection === 'keep-alive';
    out.push({ method: s.method, target: s.target, version: s.version, body: Buffer.from(s.body), keepAlive, sendTimeUs: s.sendTimeUs });
    if (!keepAlive) break;
  }
  return out;
}

/** Splits `bytes` at the given points (any order, duplicates allowed). */
function split(bytes: Buffer, points: number[]): Buffer[] {
  const cuts = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const c of [...cuts, bytes.length]) {
    out.push(bytes.subarray(at, c));
    at = c;
  }
  return out;
}

/** Feeds the chunks, checking the memory bound after every push; returns all requests and the final error. */
function feed(chunks: Buffer[], limits = { maxHeaderBytes: 16384, maxBodyBytes: 1 << 20 }) {
  const p = new RequestParser(limits);
  const requests: ParsedRequest[] = [];
  for (const c of chunks) {
    requests.push(...p.push(c));
    expect(p.buffered).toBeLessThanOrEqual(limits.maxHeaderBytes + limits.maxBodyBytes);
  }
  return { requests, status: p.error?.status ?? null, buffered: p.buffered };
}

const sendsOne = (text: string, limits?: { maxHeaderBytes: number; maxBodyBytes: number }) =>
  feed([Buffer.from(text, 'latin1')], limits);

describe('RequestParser: properties', () => {
  it('gives the same requests for any split of pipelined valid requests', () => {
    fc.assert(
      fc.property(fc.array(specArb, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 40 }), (specs, points) => {
        const bytes = Buffer.concat(specs.map(serialize));
        const whole = feed([bytes]);
        const pieces = feed(split(bytes, points));
        expect(whole.status).toBe(null);
        expect(pieces).toEqual(whole);
        expect(whole.requests.map(({ method, target, version, body, keepAlive, sendTimeUs }) => ({
          method, target, version, body, keepAlive, sendTimeUs,
        }))).toEqual(expected(specs));
        // Headers keep their order; our own x- headers come first, as sent.
        whole.requests.forEach((r, i) => expect(r.headers.slice(0, specs[i].headers.length)).toEqual(specs[i].headers));
      }),
      { numRuns: 300 },
    );
  });

  it('feeds byte by byte as well as in one piece', () => {
    fc.assert(
      fc.property(fc.array(specArb, { minLength: 1, maxLength: 3 }), (specs) => {
        const bytes = Buffer.concat(specs.map(serialize));
        const bytewise = feed(Array.from(bytes, (b) => Buffer.from([b])));
        expect(bytewise).toEqual(feed([bytes]));
      }),
      { numRuns: 50 },
    );
  });

  const small = { maxHeaderBytes: 256, maxBodyBytes: 512 };

  it('never throws on random bytes and keeps within its limits', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000, size: 'max' }), fc.array(fc.nat(), { maxLength: 20 }), (bytes, points) => {
        feed(split(Buffer.from(bytes), points), small);
        // Without line ends every byte is part of one unfinished line: the case that would grow memory.
        feed(split(Buffer.from(bytes.map((b) => (b === 10 ? 32 : b))), points), small);
      }),
      // Shrinking arrays of thousands of bytes takes minutes; the first counterexample says enough.
      { numRuns: 300, endOnFailure: true },
    );
  });

  // Random bytes rarely get past the request line; HTTP-shaped fragments reach every state.
  const fragment = fc.constantFrom(
    'GET / HTTP/1.1\r\n', 'POST /x HTTP/1.0\r\n', 'Host: a\r\n', 'content-length: 5\r\n', 'content-length: 999999\r\n',
    'transfer-encoding: chunked\r\n', 'transfer-encoding: gzip\r\n', 'connection: close\r\n', '\r\n', '\n', '5\r\n',
    'ffffffff\r\n', '0\r\n', ';ext=1', 'hello', ' ', ':', 'x'.repeat(100), '\x00', 'a\rb',
  );
  it('never throws on HTTP-shaped garbage, and its outcome does not depend on the split', () => {
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 60 }), fc.array(fc.nat(), { maxLength: 20 }), (frags, points) => {
        const bytes = Buffer.from(frags.join(''), 'latin1');
        expect(feed(split(bytes, points), small)).toEqual(feed([bytes], small));
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on mutated valid requests, and its outcome does not depend on the split', () => {
    const mutation = fc.record({ at: fc.nat(), kind: fc.constantFrom('flip', 'insert', 'delete'), byte: fc.integer({ min: 0, max: 255 }) });
    fc.assert(
      fc.property(
        fc.array(specArb, { minLength: 1, maxLength: 3 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (specs, mutations, points) => {
          const bytes = [...Buffer.concat(specs.map(serialize))];
          for (const m of mutations) {
            const i = m.at % (bytes.length + 1);
            if (m.kind === 'insert') bytes.splice(i, 0, m.byte);
            else if (i < bytes.length) m.kind === 'delete' ? bytes.splice(i, 1) : (bytes[i] = m.byte);
          }
          const buf = Buffer.from(bytes);
          expect(feed(split(buf, points), small)).toEqual(feed([buf], small));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('RequestParser: keep-alive and pipelining', () => {
  it('keeps HTTP/1.1 alive unless Connection: close', () => {
    expect(sendsOne('GET / HTTP/1.1\r\n\r\n').requests[0].keepAlive).toBe(true);
    expect(sendsOne('GET / HTTP/1.1\r\nConnection: Close\r\n\r\n').requests[0].keepAlive).toBe(false);
    expect(sendsOne('GET / HTTP/1.1\r\nConnection: upgrade, close\r\n\r\n').requests[0].keepAlive).toBe(false);
  });

  it('keeps HTTP/1.0 alive only with Connection: keep-alive', () => {
    expect(sendsOne('GET / HTTP/1.0\r\n\r\n').requests[0].keepAlive).toBe(false);
    expect(sendsOne('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n').requests[0].keepAlive).toBe(true);
  });

  it('returns pipelined requests in order, and ignores what follows a closing request', () => {
    const { requests, buffered } = sendsOne(
      'GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /3 HTTP/1.1\r\nConnection: close\r\n\r\nGET /4 HTTP/1.1\r\n',
    );
    expect(requests.map((r) => r.target)).toEqual(['/1', '/2', '/3']);
    expect(requests[1].body.toString()).toBe('abc');
    expect(buffered).toBe(0);
  });

  it('reads chunked bodies with extensions and trailers', () => {
    const { requests, status } = sendsOne(
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b\r\nabc\r\n0A\r\n0123456789\r\n0;last\r\nX-Sum: 1\r\n\r\nGET /next HTTP/1.1\r\n\r\n',
    );
    expect(status).toBe(null);
    expect(requests.map((r) => [r.target, r.body.toString()])).toEqual([['/', 'abc0123456789'], ['/next', '']]);
  });

  it('reads the send-time header, 0 when absent or not a number', () => {
    expect(sendsOne(`GET / HTTP/1.1\r\n${SEND_TIME_HEADER}: 123.5\r\n\r\n`).requests[0].sendTimeUs).toBe(123.5);
    expect(sendsOne('GET / HTTP/1.1\r\n\r\n').requests[0].sendTimeUs).toBe(0);
    expect(sendsOne(`GET / HTTP/1.1\r\n${SEND_TIME_HEADER}: soon\r\n\r\n`).requests[0].sendTimeUs).toBe(0);
  });

  it('skips empty lines before a request line', () => {
    expect(sendsOne('\r\n\r\nGET / HTTP/1.1\r\n\r\n').requests).toHaveLength(1);
  });

  it('returns the requests before an error in the same push, and nothing after', () => {
    const p = new RequestParser();
    expect(p.push(Buffer.from('GET /ok HTTP/1.1\r\n\r\nBAD\r\n\r\n')).map((r) => r.target)).toEqual(['/ok']);
    expect(p.error?.status).toBe(400);
    expect(p.push(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toEqual([]);
  });
});

describe('RequestParser: errors', () => {
  const cases: [string, string, number][] = [
    ['bad request line', 'GET /\r\n\r\n', 400],
    ['space in the method', 'G ET / HTTP/1.1\r\n\r\n', 400],
    ['unknown version', 'GET / HTTP/2.0\r\n\r\n', 400],
    ['control byte in the target', 'GET /\x01 HTTP/1.1\r\n\r\n', 400],
    ['header without colon', 'GET / HTTP/1.1\r\nfoo\r\n\r\n', 400],
    ['space before the colon', 'GET / HTTP/1.1\r\nfoo : bar\r\n\r\n', 400],
    ['obs-fold', 'GET / HTTP/1.1\r\nfoo: bar\r\n baz\r\n\r\n', 400],
    ['NUL in a value', 'GET / HTTP/1.1\r\nfoo: b\x00r\r\n\r\n', 400],
    ['bad Content-Length', 'POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n', 400],
    ['negative Content-Length', 'POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n', 400],
    ['conflicting Content-Length', 'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 400],
    ['both CL and TE', 'POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
    ['chunked twice', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n', 400],
    ['bad chunk size', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
    ['chunk without CRLF after data', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXY\r\n', 400],
    ['unknown transfer coding', 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 501],
    ['body over the limit (CL)', 'POST / HTTP/1.1\r\nContent-Length: 513\r\n\r\n', 413],
    ['body over the limit (chunked)', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n200\r\n' + 'a'.repeat(512) + '\r\n1\r\n', 413],
    ['huge chunk size', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n', 413],
    ['head over the limit', 'GET / HTTP/1.1\r\n' + 'x-a: b\r\n'.repeat(40) + '\r\n', 431],
  ];
  for (const [name, text, status] of cases) {
    it(`${name} -> ${status}`, () => {
      const r = sendsOne(text, { maxHeaderBytes: 256, maxBodyBytes: 512 });
      expect(r.status).toBe(status);
      expect(r.requests).toEqual([]);
      expect(r.buffered).toBe(0);
    });
  }

  it('answers an endless header line with 431 without keeping more than the limit', () => {
    const p = new RequestParser({ maxHeaderBytes: 1000 });
    p.push(Buffer.from('GET / HTTP/1.1\r\nx-long: '));
    let pushes = 0;
    while (p.error === null && pushes++ < 100) {
      p.push(Buffer.alloc(64, 'a'));
      expect(p.buffered).toBeLessThanOrEqual(1000);
    }
    expect(p.error?.status).toBe(431);
    expect(pushes).toBeLessThan(20);
  });

  it('accepts a head of exactly the limit', () => {
    const head = 'GET / HTTP/1.1\r\nx: ' + 'a'.repeat(100) + '\r\n\r\n';
    expect(sendsOne(head, { maxHeaderBytes: head.length, maxBodyBytes: 0 }).requests).toHaveLength(1);
    expect(sendsOne(head, { maxHeaderBytes: head.length - 1, maxBodyBytes: 0 }).status).toBe(431);
  });
});

describe('responses', () => {
  it('formats a response that node can read back', () => {
    const text = formatResponse(200, Buffer.from('hey'), true, 'text/plain', [['x-srvlens-pid', '42']]).toString('latin1');
    expect(text).toBe(
      'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\nconnection: keep-alive\r\nx-srvlens-pid: 42\r\n\r\nhey',
    );
  });

  it('closes after an error response', () => {
    const text = errorResponse({ status: 431, reason: 'too big' }).toString('latin1');
    expect(text.startsWith('HTTP/1.1 431 Request Header Fields Too Large\r\n')).toBe(true);
    expect(text).toContain('connection: close\r\n');
    expect(text.endsWith('\r\n\r\ntoo big\n')).toBe(true);
  });
});
