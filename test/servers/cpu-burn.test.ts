/**
 * The workload's CPU stages burn CPU time, not wall time: a stage of N µs costs its thread N µs of CPU even when
 * more threads burn than there are cores (a wall-clock spin would end on time with a fraction of it burnt), and
 * that CPU is user time, as a handler's logic is, not time in the kernel reading the clock.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/vocabulary/package-paths.js';
import { burnCpu } from '../../src/servers/workload/cpu-burn.js';
import { addonPath } from '../../src/servers/native.js';

const BURN_US = 100_000;

/** A thread that burns BURN_US and reports its own CPU clock's growth and the wall time it took, both µs. */
function burnInWorker(): Promise<{ cpuUs: number; wallUs: number }> {
  const module = pathToFileURL(join(PACKAGE_ROOT, 'dist', 'src', 'servers', 'workload', 'cpu-burn.js')).href;
  const code = `
    const { parentPort } = require('node:worker_threads');
    const addon = require(${JSON.stringify(addonPath())});
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

/**
 * burnCpu in a process where the addon does not load (SRVLENS_PREBUILD names a folder with none, so node-gyp-build
 * finds nothing), BURN_US on the main thread and then on a worker; each measured by the addon's thread clock, which
 * the test loads by its path. The main thread burns by the process's CPU clock, the worker by the wall clock.
 */
function burnWithoutAddon(): { mainCpuUs: number; workerCpuUs: number; workerWallUs: number; loaded: boolean } {
  const none = mkdtempSync(join(tmpdir(), 'srvlens-no-addon-'));
  const burnModule = JSON.stringify(pathToFileURL(join(PACKAGE_ROOT, 'dist', 'src', 'servers', 'workload', 'cpu-burn.js')).href);
  const nativeModule = JSON.stringify(pathToFileURL(join(PACKAGE_ROOT, 'dist', 'src', 'servers', 'native.js')).href);
  const addon = JSON.stringify(addonPath());
  const worker = `
    const { parentPort } = require('node:worker_threads');
    const addon = require(${addon});
    import(${burnModule}).then(({ burnCpu }) => {
      burnCpu(1000);
      const cpu0 = addon.threadCpuUs();
      const wall0 = performance.now();
      burnCpu(${BURN_US});
      parentPort.postMessage({ workerCpuUs: addon.threadCpuUs() - cpu0, workerWallUs: (performance.now() - wall0) * 1000 });
    });`;
  const code = `
    import { createRequire } from 'node:module';
    import { Worker } from 'node:worker_threads';
    import { once } from 'node:events';
    const { burnCpu } = await import(${burnModule});
    const { addonIfLoaded } = await import(${nativeModule});
    const addon = createRequire(import.meta.url)(${addon});
    burnCpu(1000);
    const cpu0 = addon.threadCpuUs();
    burnCpu(${BURN_US});
    const mainCpuUs = addon.threadCpuUs() - cpu0;
    // execArgv: not the parent's --input-type=module, which would make the worker's code a module.
    const [m] = await once(new Worker(${JSON.stringify(worker)}, { eval: true, execArgv: [] }), 'message');
    console.log(JSON.stringify({ mainCpuUs, ...m, loaded: addonIfLoaded() !== null }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    env: { ...process.env, SRVLENS_PREBUILD: none },
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
}

describe('burnCpu without the addon', () => {
  it('burns a main thread\'s whole CPU time by the process\'s clock, and a worker\'s by the wall clock', () => {
    const r = burnWithoutAddon();
    expect(r.loaded).toBe(false);
    // The process's clock also counts its other threads (GC helpers, here idle): a stage may end a little early.
    expect(r.mainCpuUs).toBeGreaterThanOrEqual(BURN_US * 0.95);
    expect(r.mainCpuUs).toBeLessThan(BURN_US * 1.05);
    // On the wall clock the stage takes its whole length; its CPU is that, less any time the thread waited for a core.
    expect(r.workerWallUs).toBeGreaterThanOrEqual(BURN_US);
    expect(r.workerCpuUs).toBeLessThanOrEqual(r.workerWallUs);
    expect(r.workerCpuUs).toBeGreaterThan(BURN_US * 0.5);
  });
});
