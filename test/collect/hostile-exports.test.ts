import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostileExports, post, validExport } from '../helpers/hostile-otlp.js';

// The collector in a process of its own, as srvlens runs it, so that its peak RSS is its own.
let collector: ChildProcess;
let port = 0;
let accepted = 0;
const peakRssMb = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${collector.pid}/status`, 'utf8'))![1]) / 1024;

beforeAll(async () => {
  const receiver = pathToFileURL(resolve('dist/src/collect/receiver.js')).href;
  const script = `
    import { startCollector } from ${JSON.stringify(receiver)};
    const c = await startCollector({ intervalMs: 1000, onAgentIntervals: (l) => process.stdout.write('intervals ' + l.length + '\\n') });
    process.stdout.write('port ' + c.port + '\\n');`;
  collector = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  port = await new Promise<number>((done) => {
    collector.stdout!.setEncoding('utf8').on('data', (d: string) => {
      for (const m of d.matchAll(/port (\d+)/g)) done(Number(m[1]));
      for (const m of d.matchAll(/intervals (\d+)/g)) accepted += Number(m[1]);
    });
  });
});
afterAll(() => void collector?.kill('SIGKILL'));

describe('the collector, sent malformed and hostile exports', () => {
  it('answers each with a 4xx and its reason, stays within its memory, and keeps serving', async () => {
    const before = peakRssMb();
    const figures: string[] = [];
    for (const h of hostileExports()) {
      const answer = await post(port, h);
      figures.push(`${h.name}: ${answer.status}`);
      expect(answer.status, h.name).toBe(h.status);
      expect(JSON.parse(answer.text).error, h.name).toMatch(h.reason);
    }
    // 100 MB streamed without a length: refused at 32 MB, while another export is answered meanwhile.
    const [big, beside] = await Promise.all([post(port, { path: '/v1/metrics', type: 'application/json', streamBytes: 100 * 1024 * 1024 }), post(port, { path: '/v1/metrics', type: 'application/json', body: validExport(4242) })]);
    expect(big.status).toBe(413);
    expect(JSON.parse(big.text).error).toMatch(/body over 33554432 bytes/);
    expect(beside.status).toBe(200);
    expect((await post(port, { path: '/v1/metrics', type: 'application/json', body: validExport(4243) })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    expect(accepted).toBe(2);
    const peak = peakRssMb();
    console.log(`hostile OTLP: ${figures.length + 1} exports refused, collector peak RSS ${before.toFixed(0)} -> ${peak.toFixed(0)} MB\n  ${figures.join('\n  ')}`);
    // 32 MB of body, its inflated or decoded copy, and V8's headroom: well under the GB a bomb would take.
    expect(peak).toBeLessThan(300);
  });
});
