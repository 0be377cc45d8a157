/**
 * What-if, checked on this machine: `srvlens capacity scenarios/pool-sweep.yaml --vary threads=2,4,8,16` searches
 * the thread pool's capacity at four sizes, and each size's capacity is predicted by the USL fitted to the other
 * three (lambda from the time a request held its thread, measured apart). The predictions must hold within 20 %.
 * About 2 minutes: every size is a capacity search of real probes.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CapacityResult } from '../../src/scenario/capacity/run-capacity.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli.js');
const SIZES = [2, 4, 8, 16];
/** How far a size's capacity may be from the fit of the others (the bar). */
const PREDICTION_SHARE = 0.2;

describe('a pool-size sweep', () => {
  it('predicts each size from the other three within 20 %', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [CLI, 'capacity', join(ROOT, 'scenarios/pool-sweep.yaml'), '--json', '--vary', `threads=${SIZES.join(',')}`],
      { timeout: 300_000, maxBuffer: 16 * 2 ** 20 },
    );
    const result = JSON.parse(stdout) as CapacityResult;
    expect(result.servers.map((s) => s.server)).toEqual(SIZES.map((n) => `pool-threads${n}`));
    const sweep = result.sweeps?.[0];
    expect(sweep?.vary).toBe('threads');
    const points = sweep!.analysis.points;
    console.log(`lambda ${sweep!.analysis.lambda?.rps.toFixed(1)} req/s; ` + points.map((p) => `${p.n} threads: measured ${p.measured_rps}, predicted ${p.predicted_rps} (${((p.error ?? NaN) * 100).toFixed(1)} %)`).join('; '));
    for (const p of points) {
      expect(p.predicted_rps, `${p.n} threads: ${p.basis}`).not.toBeNull();
      expect(Math.abs(p.error!), `${p.n} threads: measured ${p.measured_rps}, predicted ${p.predicted_rps}`).toBeLessThanOrEqual(PREDICTION_SHARE);
    }
    // More threads, more capacity: the pool is what gave out at each size, not the host.
    for (let i = 1; i < points.length; i++) expect(points[i].measured_rps!).toBeGreaterThan(points[i - 1].measured_rps!);
    expect(sweep!.analysis.fit.ok).toBe(true);
  }, 320_000);
});
