/**
 * The sampler on real processes: it takes the snapshots it is asked for, follows contexts that come and go while it
 * reads them, and treats a process that ended as gone, never as an error.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessGoneError, sampleTree } from '../../../agents/proc/sample-tree.js';
import { listProcDirOrWhy } from '../../../agents/proc/proc-read.js';
import { readProcess, readTreeSnapshot } from '../../../agents/proc/tree-snapshot.js';

const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already ended
    }
  }
});

function startSleeper(seconds: number) {
  const child = spawn('sleep', [String(seconds)], { stdio: 'ignore' });
  started.push(child.pid!);
  return child;
}

describe('sampling a process tree', () => {
  it('takes a snapshot at every interval and one at the end of the window', async () => {
    const sleeper = startSleeper(30);
    expect((await sampleTree({ pid: sleeper.pid!, durationMs: 1000, intervalMs: 200 })).samples).toBe(6);
    // a window that is not a whole number of intervals ends with a last, shorter step
    const w = await sampleTree({ pid: sleeper.pid!, durationMs: 1000, intervalMs: 300 });
    expect(w.samples).toBe(5);
    expect(w.contexts).toEqual([expect.objectContaining({ pid: sleeper.pid, tid: sleeper.pid, name: 'sleep', state: 'S', born: false, ended: false, cpu_ms: 0 })]);
  });

  it('follows threads and processes that end between two reads, without failing', async () => {
    const churn = spawn('python3', [join(import.meta.dirname, 'fixtures/churn.py')], { detached: true, stdio: 'ignore' });
    started.push(-churn.pid!); // its process group: the script and the children it forks
    await new Promise((r) => setTimeout(r, 300));
    const w = await sampleTree({ pid: churn.pid!, durationMs: 1500, intervalMs: 10 });
    expect(w.samples).toBe(151);
    const threads = w.contexts.filter((c) => c.pid === churn.pid && c.tid !== churn.pid);
    expect(threads.filter((c) => c.born && c.ended).length).toBeGreaterThanOrEqual(3);
    const children = w.processes.filter((p) => p.ppid === churn.pid);
    expect(children.filter((p) => p.born && p.ended).length).toBeGreaterThanOrEqual(3);
  });

  it('finds listeners and client connections over IPv6 as over IPv4', async () => {
    // A server process on IPv6 loopback that prints its port; this test's process is its client, twice.
    const script = "const s = require('net').createServer(() => {}).listen(0, '::1', () => console.log(s.address().port))";
    const server = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    started.push(server.pid!);
    const [line] = (await once(server.stdout!, 'data')) as [Buffer];
    const port = Number(line.toString());
    const clients = [net.connect(port, '::1'), net.connect(port, '::1')];
    try {
      await Promise.all(clients.map((c) => once(c, 'connect')));
      const w = await sampleTree({ pid: server.pid!, durationMs: 300, intervalMs: 100 });
      expect(w.listeners).toEqual([expect.objectContaining({ listen: `[::1]:${port}`, pids: [server.pid], length: 0 })]);
      expect(w.processes[0].inbound_max).toBe(2);
    } finally {
      for (const c of clients) c.destroy();
    }
  });

  it('reads a process that has ended as gone', async () => {
    const done = startSleeper(0);
    await once(done, 'exit');
    expect(readProcess(done.pid!)).toBeNull();
    expect(readTreeSnapshot(done.pid!, 0)).toBeNull();
    await expect(sampleTree({ pid: done.pid!, durationMs: 100, intervalMs: 50 })).rejects.toBeInstanceOf(ProcessGoneError);
    // Its fds are gone, not closed to us: the evidence must not advise running as another user.
    expect(listProcDirOrWhy(`/proc/${done.pid}/fd`)).toBe('gone');
    expect(listProcDirOrWhy(`/proc/${process.pid}/fd`)).toContain('0');
  });

  it('stops when the process ends during the window, keeping what it saw', async () => {
    const short = startSleeper(0.5);
    const w = await sampleTree({ pid: short.pid!, durationMs: 5000, intervalMs: 100 });
    expect(w.root_ended).toBe(true);
    expect(w.samples).toBeGreaterThanOrEqual(2);
    expect(w.samples).toBeLessThan(51);
  });
});
