/**
 * The workload's CPU stages burn CPU time, not wall time: a stage of N µs costs its thread N µs of CPU even when
 * more threads burn than there are cores (a wall-clock spin would end on time with a fraction of it burnt), and
 * that CPU is user time, as a handler's logic is, not time in the kernel reading the clock.
 */
import { once } from 'node:events';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/vocabulary/package-paths.js';
import { burnCpu } from '../../src/servers/workload/cpu-burn.js';
import { ADDON_PATH } from '../../src/servers/native.js';

const BURN_US = 100_000;

/** A thread that burns BURN_US and reports its own CPU clock's growth and the wall time it took, both µs. */
function burnInWorker(): Promise<{ cpuUs: number; wallUs: number }> {
  const module = pathToFileURL(join(PACKAGE_ROOT, 'dist', 'src', 'servers', 'workload', 'cpu-burn.js')).href;
  const code = `
    const { parentPort } = require('node:worker_threads');
    const addon = require(${JSON.stringify(ADDON_PATH)});
    import(${JSON.stringify(module)}).then(({ burnCpu }) => {
      burnCpu(1000); // the first chunks learn the spin's rate
      const cpu0 = addon.threadCpuUs();
      const wall0 = performance.now();
      burnCpu(${BURN_US});
      parentPort.postMessage({ cpuUs: addon.threadCpuUs() - cpu0, wallUs: (performance.now() - wall0) * 1000 });
    });`;
  const worker = new Worker(code, { eval: true });
  return once(worker, 'message').then(([m]) => m as { cpuUs: number; wallUs: number });
}

describe('burnCpu', () => {
  it('costs each of more threads than cores its whole CPU time, and takes longer on the wall', async () => {
    const threads = cpus().length * 2;
    const results = await Promise.all(Array.from({ length: threads }, () => burnInWorker()));
    for (const r of results) {
      expect(r.cpuUs).toBeGreaterThanOrEqual(BURN_US);
      // Ends within a chunk or two of its due (the clock is read every ~50 µs).
      expect(r.cpuUs).toBeLessThan(BURN_US * 1.05);
    }
    // Twice as many threads as cores: together they needed about twice the wall time of one.
    const longest = Math.max(...results.map((r) => r.wallUs));
    expect(longest).toBeGreaterThan(BURN_US * 1.5);
  });

  it('burns user time, not system time', () => {
    burnCpu(1000);
    const before = process.cpuUsage();
    burnCpu(200_000);
    const used = process.cpuUsage(before);
    expect(used.user + used.system).toBeGreaterThanOrEqual(200_000);
    expect(used.user / (used.user + used.system)).toBeGreaterThan(0.8);
  });

  it('does nothing for zero, negative or missing amounts', () => {
    for (const us of [0, -5, Number.NaN]) {
      const before = process.cpuUsage();
      burnCpu(us);
      expect(process.cpuUsage(before).user).toBeLessThan(5_000);
    }
  });
});
