/**
 * The plain app's upstream in the overhead bench: node:http in a process of its own, answering every request after a
 * fixed delay (a timer, not CPU, so it does not compete with the app for the cores) with a small body. Config as JSON
 * in PLAIN_UPSTREAM_CONFIG (overhead/workloads.ts' UPSTREAM). Reports ready over IPC and exits when the channel closes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runForkedChild } from '../../src/servers/child-entry.js';
import { UPSTREAM_CONFIG_ENV } from '../overhead/workloads.js';

/**
 * Longer than any pause in a trial (the agent checks wait up to a few seconds with the connections idle): node's
 * default 5 s would close a keep-alive connection that the app's pool may be about to reuse (ECONNRESET).
 */
const KEEP_ALIVE_MS = 60_000;

async function start(config: unknown): Promise<{ port: number }> {
  const { delayMs, bytes } = config as { delayMs: number; bytes: number };
  const body = Buffer.alloc(bytes, 'u');
  const answer = (res: http.ServerResponse): void => {
    res.setHeader('content-type', 'text/plain');
    res.end(body);
  };
  const server = http.createServer((req, res) => {
    req.resume();
    setTimeout(answer, delayMs, res);
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port };
}

await runForkedChild(UPSTREAM_CONFIG_ENV, start);
