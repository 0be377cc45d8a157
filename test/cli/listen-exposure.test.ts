/**
 * Listeners beyond loopback, through the real CLI: without a token `srvlens dashboard`, `serve` and `backend` refuse
 * with exit 2 and say how to give one; with one, the dashboard's collector asks every OTLP export for it (401
 * without), while the load targets serve anyone. Bound on the machine's own non-loopback address where it has one,
 * else on 0.0.0.0 and reached through 127.0.0.1. Needs `npm run build` first.
 */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exitCode, spawnGathered, until, type GatheredChild } from '../helpers/children.js';

const CLI = join(import.meta.dirname, '../../dist/src/cli.js');

/** An address of this machine beyond loopback to bind and to reach; else 0.0.0.0, reached on 127.0.0.1. */
function exposedAddress(): { bind: string; reach: string } {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return { bind: a.address, reach: a.address };
  }
  return { bind: '0.0.0.0', reach: '127.0.0.1' };
}

const { bind, reach } = exposedAddress();
/** The test's environment without any token of the shell it runs in. */
const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
  const e = { ...process.env, ...extra };
  if (!('SRVLENS_TOKEN' in extra)) delete e.SRVLENS_TOKEN;
  return e;
};

const children: GatheredChild[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await once(c, 'exit');
    }
  }
});

function start(args: string[], extraEnv: NodeJS.ProcessEnv = {}): GatheredChild {
  const child = spawnGathered([CLI, ...args], env(extraEnv));
  children.push(child);
  return child;
}

const refusal = (setting: string) =>
  `srvlens: ${setting} is beyond loopback: anyone who can reach it could use it, so it needs a token (--token TOKEN or SRVLENS_TOKEN=TOKEN; e.g. TOKEN=$(openssl rand -hex 16)), or listen on 127.0.0.1\n`;

interface Reply {
  status: number;
  body: string;
}

async function post(port: number, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  const req = http.request({ host: reach, port, path, method: 'POST', agent: false, headers: { 'content-type': 'application/json', ...headers } });
  req.end(JSON.stringify(path === '/v1/metrics' ? { resourceMetrics: [] } : { resourceSpans: [] }));
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  let body = '';
  for await (const chunk of res) body += chunk;
  return { status: res.statusCode ?? 0, body };
}

async function get(port: number): Promise<number> {
  const req = http.get({ host: reach, port, path: '/', agent: false });
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  res.resume();
  await once(res, 'end');
  return res.statusCode ?? 0;
}

describe(`a listener beyond loopback (${bind})`, () => {
  it('srvlens dashboard without a token: exit 2, one line saying which option and how to give a token, nothing listens', async () => {
    const dash = start(['dashboard', '--host', bind, '--port', '0', '--json']);
    expect(await exitCode(dash)).toBe(2);
    expect(dash.err()).toBe(refusal(`--host ${bind}`));
    expect(dash.out()).toBe('');
  });

  it('srvlens dashboard --token: an OTLP export without the bearer gets 401 and why, with it 200', async () => {
    const dash = start(['dashboard', '--host', bind, '--port', '0', '--json', '--token', 't0ken']);
    const port = Number(await until(() => /listening on http:\/\/[^ ]+:(\d+)\/v1\/metrics/.exec(dash.err())?.[1], 'the collector to listen'));
    // The token itself is not printed for agents to copy: it would sit in a terminal's scrollback or a CI log.
    expect(dash.err()).not.toContain('t0ken');
    expect(dash.err()).toContain('SRVLENS_TOKEN=<the token>');

    for (const path of ['/v1/metrics', '/v1/traces']) {
      expect(await post(port, path)).toEqual({ status: 401, body: JSON.stringify({ error: 'srvlens collector: no Authorization header: send Authorization: Bearer TOKEN' }) });
      expect(await post(port, path, { authorization: 'Bearer wrong' })).toEqual({ status: 401, body: JSON.stringify({ error: 'srvlens collector: wrong token' }) });
      expect(await post(port, path, { authorization: 'Bearer t0ken' })).toEqual({ status: 200, body: '{}' });
    }
    dash.kill('SIGTERM');
    expect(await exitCode(dash), dash.err()).toBe(0);
  });

  it('srvlens dashboard takes the token from SRVLENS_TOKEN too', async () => {
    const dash = start(['dashboard', '--host', bind, '--port', '0', '--json'], { SRVLENS_TOKEN: 'from-env' });
    const port = Number(await until(() => /listening on http:\/\/[^ ]+:(\d+)\/v1\/metrics/.exec(dash.err())?.[1], 'the collector to listen'));
    expect((await post(port, '/v1/metrics')).status).toBe(401);
    expect((await post(port, '/v1/metrics', { authorization: 'Bearer from-env' })).status).toBe(200);
  });

  it('srvlens serve: refused without --token; with it, a load target that answers clients without any header', async () => {
    const refused = start(['serve', '--model', 'event-loop', '--host', bind, '--port', '0']);
    expect(await exitCode(refused)).toBe(2);
    expect(refused.err()).toBe(refusal(`--host ${bind}`));
    // Refused before anything started: not even its in-process backend.
    expect(refused.out()).toBe('');

    const served = start(['serve', '--model', 'event-loop', '--host', bind, '--port', '0', '--token', 'ack']);
    const port = Number(await until(() => /event-loop server listening on [^ ]+:(\d+)\n/.exec(served.out())?.[1], 'the server to listen'));
    expect(await get(port)).toBe(200);
  });

  it('srvlens backend: refused without --token; with it, it accepts connections', async () => {
    const refused = start(['backend', '--host', bind, '--port', '0']);
    expect(await exitCode(refused)).toBe(2);
    expect(refused.err()).toBe(refusal(`--host ${bind}`));

    const backend = start(['backend', '--host', bind, '--port', '0'], { SRVLENS_TOKEN: 'ack' });
    const port = Number(await until(() => /backend listening on [^ ]+:(\d+)\n/.exec(backend.out())?.[1], 'the backend to listen'));
    const socket = net.connect({ host: reach, port });
    await once(socket, 'connect');
    socket.destroy();
  });
});
