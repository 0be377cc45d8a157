/**
 * OTLP exports a collector must refuse (issue 19): each a body, its headers, and the status it must get. Built by
 * hand, bytes where bytes are the point (protobuf written field by field, gzip of a gigabyte of zeros).
 */
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { ATTR, METRIC } from '../../src/vocabulary/index.js';

export interface Hostile {
  name: string;
  path: '/v1/metrics' | '/v1/traces';
  type: string;
  encoding?: string;
  body: Buffer;
  status: number;
  /** What the reason must say. */
  reason: RegExp;
}

const nowNano = () => String(BigInt(Date.now()) * 1_000_000n);

/** A valid JSON export of one requests point from `pid`, stamped now. */
export function validExport(pid: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      resourceMetrics: [
        {
          resource: { attributes: [{ key: ATTR.processPid, value: { intValue: String(pid) } }] },
          scopeMetrics: [{ metrics: [{ name: METRIC.requests, sum: { dataPoints: [{ timeUnixNano: nowNano(), asInt: '5' }] } }] }],
        },
      ],
    }),
  );
}

/** A protobuf metrics export of `points` sum points, each its own process (pid), written field by field. */
export function protobufPoints(points: number): Buffer {
  const metric = protobuf.Writer.create();
  metric.uint32((1 << 3) | 2).string(METRIC.requests);
  const sum = protobuf.Writer.create();
  const time = Date.now() * 1e6; // a double: a few hundred ns off, within the interval
  for (let i = 0; i < points; i++) {
    const p = protobuf.Writer.create();
    p.uint32((3 << 3) | 1).fixed64(time);
    p.uint32((4 << 3) | 1).double(1);
    sum.uint32((1 << 3) | 2).bytes(p.finish());
  }
  metric.uint32((7 << 3) | 2).bytes(sum.finish());
  const scope = protobuf.Writer.create().uint32((2 << 3) | 2).bytes(metric.finish());
  const resource = protobuf.Writer.create().uint32((2 << 3) | 2).bytes(scope.finish());
  return Buffer.from(protobuf.Writer.create().uint32((1 << 3) | 2).bytes(resource.finish()).finish());
}

const json = (o: unknown) => Buffer.from(JSON.stringify(o));
const deep = (n: number) => Buffer.from(`{"resourceMetrics":${'['.repeat(n)}${']'.repeat(n)}}`);

export function hostileExports(): Hostile[] {
  const good = protobufPoints(3);
  return [
    ...[1, 5, Math.floor(good.length / 2), good.length - 1].map((n) => ({
      name: `protobuf cut to ${n} of ${good.length} bytes`, path: '/v1/metrics' as const, type: 'application/x-protobuf', body: good.subarray(0, n), status: 400, reason: /not an OTLP metrics protobuf/,
    })),
    { name: 'protobuf of traces cut short', path: '/v1/traces', type: 'application/x-protobuf', body: good.subarray(0, 7), status: 400, reason: /not an OTLP traces protobuf/ },
    { name: 'not JSON', path: '/v1/metrics', type: 'application/json', body: Buffer.from('{"resourceMetrics": [{'), status: 400, reason: /not JSON/ },
    { name: 'resourceMetrics a string', path: '/v1/metrics', type: 'application/json', body: json({ resourceMetrics: 'lots' }), status: 400, reason: /resourceMetrics: expected a list/ },
    { name: 'a value of the wrong type', path: '/v1/metrics', type: 'application/json', body: json({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: METRIC.requests, sum: { dataPoints: [{ timeUnixNano: nowNano(), asDouble: 'fast' }] } }] }] }] }), status: 400, reason: /expected a number, got "fast"/ },
    { name: 'a timestamp of an object', path: '/v1/metrics', type: 'application/json', body: json({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: METRIC.requests, gauge: { dataPoints: [{ timeUnixNano: { $gt: 1 }, asInt: 1 }] } }] }] }] }), status: 400, reason: /expected a number/ },
    { name: 'a histogram 2^30 buckets wide', path: '/v1/metrics', type: 'application/json', body: json({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: METRIC.requestDuration, exponentialHistogram: { dataPoints: [{ timeUnixNano: nowNano(), scale: 4, count: 2, positive: { offset: 2 ** 31, bucketCounts: [1] } }] } }] }] }] }), status: 400, reason: /offset/ },
    { name: 'a histogram of scale 1000', path: '/v1/metrics', type: 'application/json', body: json({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: METRIC.requestDuration, exponentialHistogram: { dataPoints: [{ timeUnixNano: nowNano(), scale: 1000, count: 1, positive: { offset: 0, bucketCounts: [1] } }] } }] }] }] }), status: 400, reason: /scale 1000/ },
    { name: 'a point stamped at 1970', path: '/v1/metrics', type: 'application/json', body: json({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: METRIC.requests, sum: { dataPoints: [{ timeUnixNano: '1', asInt: 1 }] } }] }] }] }), status: 400, reason: /is the sender's clock right/ },
    { name: 'deep JSON (10^6 nested lists)', path: '/v1/metrics', type: 'application/json', body: deep(1_000_000), status: 400, reason: /expected a mapping/ },
    { name: 'a list at the top', path: '/v1/traces', type: 'application/json', body: json([[[]]]), status: 400, reason: /expected a mapping/ },
    { name: '1M data points (protobuf)', path: '/v1/metrics', type: 'application/x-protobuf', body: protobufPoints(1_000_000), status: 413, reason: /more than 100000 data points/ },
    { name: 'gzip bomb (256 MiB of zeros)', path: '/v1/metrics', type: 'application/json', encoding: 'gzip', body: gzipSync(Buffer.alloc(256 * 1024 ** 2), { level: 9 }), status: 413, reason: /inflates past/ },
    { name: 'gzip that is not', path: '/v1/metrics', type: 'application/json', encoding: 'gzip', body: Buffer.from('plain'), status: 400, reason: /cannot be inflated/ },
  ];
}

/** POSTs `body` (or `streamBytes` of zeros, in 1 MB writes, without a content-length) and resolves with the answer. */
export function post(port: number, h: { path: string; type: string; encoding?: string; body?: Buffer; streamBytes?: number }): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': h.type };
    if (h.encoding) headers['content-encoding'] = h.encoding;
    const req = request({ host: '127.0.0.1', port, path: h.path, method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    if (h.body) return void req.end(h.body);
    const chunk = Buffer.alloc(1024 * 1024);
    let left = h.streamBytes ?? 0;
    const pump = () => {
      while (left > 0) {
        left -= chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    // The server answers 413 and closes early: further writes then fail, which is the point, not an error here.
    req.on('error', () => undefined);
    pump();
  });
}
