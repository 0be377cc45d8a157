/**
 * `srvlens attach` (the built CLI) on servers nobody here wrote, under a fast workload: a new connection per request,
 * each over in about a millisecond, far shorter than the 200 ms sampling, so no sample catches two open at once and
 * most catch none. Debian's Apache (prefork MPM) and Python's http.server with ForkingMixIn must still be named,
 * and say how sure; Debian's nginx must not be taken for prefork. Fails, saying how to install them, without apache2,
 * nginx or python3 (scripts/test-deps.sh).
 */
import { availableParallelism } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { renderAttachText, type AttachJson } from '../../../agents/proc/attach-report.js';
import { waitUntil } from '../../helpers/processes.js';
import { attachCli, type RunningServer, shortConnections, startApachePrefork, startForkingHttp, startNginx, stopAll } from './real-servers.js';

afterEach(stopAll);

const DURATION_S = 2;
const INTERVAL_MS = 200;

/** Attaches for DURATION_S while 2 clients make short connections to `path`; the document and how many were served. */
async function attachUnderShortConnections(srv: RunningServer, path: string) {
  const load = shortConnections(srv.port, 2, 2, path);
  await waitUntil(() => load.completed() >= 10, 10_000);
  const r = await attachCli(['--pid', String(srv.pid), '--duration', String(DURATION_S), '--interval', String(INTERVAL_MS), '--json', '-q']);
  const served = await load.stop();
  expect(r.code, r.stderr).toBe(0);
  const doc = JSON.parse(r.stdout) as AttachJson;
  // Many more connections than samples: most came and went between two samples.
  const samples = (DURATION_S * 1000) / INTERVAL_MS + 1;
  expect(served).toBeGreaterThan(10 * samples);
  return { doc, why: `${doc.model} (${doc.confidence}):\n${doc.evidence.join('\n')}` };
}

describe('srvlens attach under short connections', () => {
  it('names Apache prefork from its workers sleeping in accept, though no connection was caught open twice', async () => {
    const srv = await startApachePrefork(5);
    const { doc, why } = await attachUnderShortConnections(srv, '/ok');
    expect(doc.model, why).toBe('prefork');
    expect(doc.confidence, why).toBe('high');
    expect(renderAttachText(doc)).toMatch(/^model: prefork \(high confidence\)$/m);
    expect(doc.evidence[0]).toMatch(/^5 worker processes of the same executable \(\S*apache2\) under one master \(PID \d+\)$/);
    expect(doc.evidence).toContainEqual(expect.stringMatching(/^\d of the \d workers that served sleep in accept \(inet_csk_accept\)/));
    const workers = doc.processes.filter((p) => p.ppid === srv.pid);
    expect(workers).toHaveLength(5);
    expect(workers.every((p) => p.threads_max === 1 && !p.born && !p.ended)).toBe(true);
    expect(Math.max(...workers.map((p) => p.inbound_max))).toBeLessThanOrEqual(1);
  });

  it('does not take nginx, loops that sleep in epoll, for prefork under the same load', async () => {
    const srv = await startNginx(2);
    const { doc, why } = await attachUnderShortConnections(srv, '/');
    // As many workers as cores, in epoll: a loop per core (sure of it only if a sample caught one worker holding two);
    // on one core the hints disagree.
    expect(doc.model, why).toBe(availableParallelism() >= 2 ? 'event-loop-per-core' : 'unknown');
    if (doc.confidence !== 'high') expect(doc.evidence).toContainEqual(expect.stringMatching(/^2 of the 2 workers that served sleep in a multiplexer \(do_epoll_wait\)/));
  });

  it('names http.server with ForkingMixIn fork-per-connection from the children it makes and ends', async () => {
    const srv = await startForkingHttp();
    const { doc, why } = await attachUnderShortConnections(srv, '/');
    expect(doc.model, why).toBe('fork-per-connection');
    expect(doc.confidence, why).not.toBeNull();
    expect(doc.evidence[0]).toMatch(/^processes created during the window: \d+, ended: \d+$/);
    const children = doc.processes.filter((p) => p.ppid === srv.pid);
    expect(children.filter((p) => p.born && p.ended).length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...children.map((p) => p.inbound_max))).toBeLessThanOrEqual(1);
    // The ones that ended between two readings had closed their fds: no advice to run as another user for those.
    expect(doc.evidence.join('\n')).not.toMatch(/another user's process/);
  });
});
