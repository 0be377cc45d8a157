/**
 * Pinning a server to its first N CPUs: a real process, its every thread's allowed CPUs read back from /proc, and a
 * thread made after the pin inheriting it.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { pinToCores } from '../../src/servers/pin-cores.js';

const allowed = (pid: number) =>
  readdirSync(`/proc/${pid}/task`).map((tid) => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))![1]);

describe('pinToCores', () => {
  it('pins every thread of a process to CPU 0, and threads made later inherit it', async () => {
    // A Node process that starts a worker thread when told: its threads before and after the pin.
    const child = spawn(process.execPath, ['-e', "process.stdin.once('data', () => { new (require('node:worker_threads').Worker)('setInterval(() => {}, 1000)', { eval: true }); console.log('started'); }); setInterval(() => {}, 1000)"], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      await new Promise((r) => setTimeout(r, 300));
      pinToCores(child.pid!, 1);
      expect(new Set(allowed(child.pid!))).toEqual(new Set(['0']));
      const before = allowed(child.pid!).length;
      child.stdin.write('go\n');
      await new Promise((r) => child.stdout.once('data', r));
      const after = allowed(child.pid!);
      expect(after.length).toBeGreaterThan(before);
      expect(new Set(after)).toEqual(new Set(['0']));
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses more cores than the machine has, with the reason', () => {
    expect(() => pinToCores(process.pid, availableParallelism() + 1)).toThrow(/cores: expected 1 to \d+ \(this machine's CPUs\)/);
  });
});
