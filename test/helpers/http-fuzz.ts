/**
 * HTTP byte streams a reference server must survive (issue 19): fuzzed request lines, headers and bodies, each on a
 * connection of its own, and slow clients that trickle their heads. A server passes when each stream is answered
 * with a status line (below 500) or closed, and it goes on serving a plain GET.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';

const CLI = join(import.meta.dirname, '../../dist/src/cli.js');

export interface Served {
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

/** `srvlens serve --model MODEL` without an agent, in a process group of its own (its children die with it). */
export async function serveModel(model: string, extra: string[] = []): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'serve', '--model', model, '--port', '0', '--backend-latency', 'fixed:1', '--process-us', '100', ...extra], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const end = Date.now() + 15_000;
  while (!/server listening on [\d.]+:(\d+)/.test(out)) {
    if (child.exitCode !== null || Date.now() > end) throw new Error(`${model} did not start (exit ${child.exitCode}): ${err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const port = Number(/server listening on [\d.]+:(\d+)/.exec(out)![1]);
  return {
    child,
    port,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      process.kill(-child.pid!, 'SIGTERM');
      const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export type Outcome = { kind: 'answered'; status: number } | { kind: 'closed' } | { kind: 'hung' } | { kind: 'garbled'; head: string };

/**
 * Sends `bytes`; if the server has neither answered nor closed within `quietMs` (it waits for the rest of a
 * request), ends this side too, as a client giving up would. What the server did within `timeoutMs` in all.
 * (Not ending at once: node:http drops the answer to a client that half-closes before it is sent.)
 */
export function exchange(port: number, bytes: Buffer, timeoutMs = 5000, quietMs = 300): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => finish(true), timeoutMs);
    const quiet = setTimeout(() => (got.length === 0 ? socket.end() : finish()), quietMs);
    const finish = (hung = false) => {
      clearTimeout(timer);
      clearTimeout(quiet);
      socket.destroy();
      if (got.length === 0) return resolve({ kind: hung ? 'hung' : 'closed' });
      const line = /^HTTP\/1\.[01] (\d{3}) /.exec(got.toString('latin1'));
      resolve(line ? { kind: 'answered', status: Number(line[1]) } : { kind: 'garbled', head: got.subarray(0, 60).toString('latin1') });
    };
    socket.on('data', (d) => (got = Buffer.concat([got, d])));
    socket.on('close', () => finish());
    socket.on('error', () => undefined); // a reset is a close, reported by 'close'
    socket.write(bytes);
  });
}

/** A plain GET on a fresh connection answers 200 within `timeoutMs`. */
export async function servesGet(port: number, timeoutMs = 3000): Promise<boolean> {
  const outcome = await exchange(port, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), timeoutMs, timeoutMs);
  return outcome.kind === 'answered' && outcome.status === 200;
}

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
const validRequest = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS'),
    path: fc.constantFrom('/', '/?process_us=10', '/a/b', '/?response_bytes=10', '/%00', '/?backend_calls=2'),
    version: fc.constantFrom('HTTP/1.1', 'HTTP/1.0'),
    headers: fc.array(fc.tuple(token, fc.string({ maxLength: 20 }).map((s) => s.replace(/[\r\n]/g, ''))), { maxLength: 5 }),
    body: fc.string({ maxLength: 50 }),
  })
  .map((r) => `${r.method} ${r.path} ${r.version}\r\nHost: x\r\n${r.headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}${r.body ? `Content-Length: ${Buffer.byteLength(r.body)}\r\n` : ''}\r\n${r.body}`);

/** Handwritten streams that parsers have got wrong: smuggling, overflow, and numbers that are no numbers. */
const CRAFTED = [
  'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n',
  'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello',
  'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n',
  'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
  'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n',
  'GET / HTTP/9.9\r\n\r\n',
  'GET\r\n\r\n',
  ' / HTTP/1.1\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: x\r\n Folded: continuation\r\n\r\n',
  'GET / HTTP/1.1\r\nHo\0st: x\r\n\r\n',
  'GET / HTTP/1.1\nHost: x\n\n',
  'GET / HTTP/1.1\r\r\r\r',
  '\r\n\r\n\r\n',
  `GET /${'a'.repeat(200_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
  `GET / HTTP/1.1\r\n${'X-A: b\r\n'.repeat(20_000)}\r\n`,
  `GET / HTTP/1.1\r\nX-Big: ${'v'.repeat(200_000)}\r\n\r\n`,
  'GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(200),
].map((s) => Buffer.from(s, 'latin1'));

const mutation = fc.record({ at: fc.nat(), kind: fc.constantFrom('flip', 'insert', 'delete'), byte: fc.integer({ min: 0, max: 255 }) });

/** Fuzzed streams: mutated valid requests, random bytes, and the crafted ones above. */
export const fuzzedStream: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(validRequest, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([text, ms]) => {
    const bytes = [...Buffer.from(text, 'utf8')];
    for (const m of ms) {
      const i = m.at % (bytes.length + 1);
      if (m.kind === 'insert') bytes.splice(i, 0, m.byte);
      else if (i < bytes.length) m.kind === 'delete' ? bytes.splice(i, 1) : (bytes[i] = m.byte);
    }
    return Buffer.from(bytes);
  }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.constantFrom(...CRAFTED) },
);

/** Connections that send a request head one byte every `everyMs`, for `forMs`, then close. */
export async function slowloris(port: number, connections: number, forMs: number, everyMs = 200): Promise<void> {
  const head = Buffer.from(`GET / HTTP/1.1\r\nHost: x\r\n${'X-Slow: y\r\n'.repeat(100)}`);
  const sockets = Array.from({ length: connections }, () => net.connect(port, '127.0.0.1').on('error', () => undefined));
  let i = 0;
  const timer = setInterval(() => {
    for (const s of sockets) if (!s.destroyed) s.write(head.subarray(i % head.length, (i % head.length) + 1));
    i++;
  }, everyMs);
  await new Promise((r) => setTimeout(r, forMs));
  clearInterval(timer);
  for (const s of sockets) s.destroy();
}
