/**
 * `srvlens attach --dashboard` with the kernel tracer (root), in a real terminal (tmux): once the tracer has
 * attached, a Python server nobody instrumented shows its requests live, as a server with an agent does: the rate
 * the kernel counted, its server time, and the parts before its handler.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TmuxSession, requireTmux } from '../../dashboard/tmux.js';
import { keepAliveLoad, shortConnections, startTimedHttp, stopAll, type Load } from '../proc/real-servers.js';

const CLI = join(import.meta.dirname, '../../../dist/src/cli.js');
const sessions: TmuxSession[] = [];

beforeAll(requireTmux);
afterEach(async () => {
  for (const s of sessions.splice(0)) s.kill();
  await stopAll();
});

describe('srvlens attach --dashboard and the kernel tracer', () => {
  it('shows the requests of a server with no agent in it live, counted by the kernel, with their parts', async () => {
    const server = await startTimedHttp(join(mkdtempSync(join(tmpdir(), 'srvlens-dash-kernel-')), 'server.log'), 'threading', 0.5, 5);
    // 4 keep-alive clients from before the dashboard, a request every 20 ms each after its answer: their
    // connections are adopted at their first answer. Then 2 more opening a connection a request: timed from their
    // handshake, accept queue included.
    const load = keepAliveLoad(server.port, 4, 20);
    let fresh: Load | null = null;
    try {
      const t = new TmuxSession([process.execPath, CLI, 'attach', '--pid', String(server.pid), '--dashboard'], 120, 40, { SRVLENS_KERNEL: 'on' });
      sessions.push(t);
      await t.waitFor('kernel tracer attached', 'the tracer attached', 30_000);
      fresh = shortConnections(server.port, 2, 20);
      const pane = await t.waitFor(/served +\d+ req\/s/, 'requests served', 15_000);
      expect(pane).toContain('served: as the kernel tracer counted');
      expect(pane).toMatch(/p50 +[\d.]+ ms/);
      expect(pane).toMatch(/where the server's time goes: .*coverage/);
      expect(pane).toMatch(/accept wait +[\d.]+ ms\/req/);
      expect(pane).toMatch(/server wait +[\d.]+ ms\/req/);
      t.keys('q');
      expect(await t.exitCode()).toBe(0);
      expect(t.stderr()).toBe('');
    } finally {
      await load.stop();
      await fresh?.stop();
    }
  }, 60_000);
});
