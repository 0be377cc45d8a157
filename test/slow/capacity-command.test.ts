import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newTag, taggedProcesses } from '../helpers/processes.js';

const CLI = join(import.meta.dirname, '../../dist/src/cli.js');

// A server whose limit is known in advance: every request makes one 20 ms backend call, and the backend serves 4
// calls at once, so nothing can pass 4 / 20 ms = 200 req/s, whatever the event loop could do.
const SCENARIO = `name: limited
interval_ms: 250
workload: { parse_us: 0, process_us: 100, transform_us: 0, backend_calls: 1, response_bytes: 64 }
backend:
  latency: { dist: fixed, ms: 20 }
  limit: 4
servers:
  - { name: loop, model: event-loop }
slo: { p99_ms: 250 }
capacity: { start_rps: 50, probe_s: 1.5, warmup_s: 0.5, confirm_s: 3, precision: 0.15, max_seconds: 55 }
load:
  connections: 64
  timeout_ms: 2000
  phases:
    - { name: p, rate: 10, duration_s: 1 }
`;

describe('srvlens capacity', () => {
  it('finds the rate a backend-limited server sustains, and names the backend as what gave out', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'srvlens-capacity-test-')), 'limited.yaml');
    writeFileSync(file, SCENARIO);
    const { tag, env } = newTag();
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
      execFile(process.execPath, [CLI, 'capacity', file, '--json'], { env, timeout: 80_000 }, (err, stdout, stderr) =>
        err ? reject(Object.assign(err, { stderr })) : resolve({ stdout, stderr }),
      ),
    );
    const out = JSON.parse(stdout) as { servers: Record<string, unknown>[] };
    expect(out.servers).toHaveLength(1);
    const s = out.servers[0];
    expect(s, stderr).toMatchObject({ server: 'loop', model: 'event-loop', slo: 'p99<250ms, errors<1%', gave_out: 'backend' });
    expect(s.max_sustainable_rps).toBeGreaterThanOrEqual(100);
    // Past 200 req/s the backend's queue grows by the excess every second: 250 ms is reached within a probe by ~20 %.
    expect(s.max_sustainable_rps).toBeLessThanOrEqual(240);
    expect(s.reason).toMatch(/^at \d+ req\/s p99 was [\d.]+ ms \(SLO p99<250ms\): the backend's limit gave out \(all 4 calls in service/);
    // The report's findings over the probes as steps: the same cause, with the backend's figures as evidence.
    const summary = s.summary as { limited_by: string; evidence: string[]; peak_rps: number; diagnosis: string };
    expect(summary.limited_by, summary.diagnosis).toBe('backend');
    expect(summary.evidence[0]).toMatch(/^all 4 calls in service/);
    expect(summary.peak_rps).toBeLessThanOrEqual(205); // 4 / 20 ms, as answered
    // Progress went to stderr, one line per probe.
    expect(stderr).toMatch(/loop +50 req\/s over 1\.5 s: pass/);
    expect(taggedProcesses(tag)).toEqual([]);
  }, 90_000);

  it('searches an external server started from a command, afresh for each probe', async () => {
    // Python's HTTPServer serves one request at a time; each takes 10 ms: nothing can pass 100 req/s.
    const dir = mkdtempSync(join(tmpdir(), 'srvlens-capacity-test-'));
    writeFileSync(
      join(dir, 'iterative.py'),
      [
        'import sys, time',
        'from http.server import BaseHTTPRequestHandler, HTTPServer',
        'class H(BaseHTTPRequestHandler):',
        '    def do_GET(self):',
        '        time.sleep(0.01)',
        '        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")',
        '    def log_message(self, *a): pass',
        'HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()',
        '',
      ].join('\n'),
    );
    const file = join(dir, 'external.yaml');
    writeFileSync(
      file,
      `name: external
interval_ms: 250
servers:
  - { name: py, command: [python3, ${JSON.stringify(join(dir, 'iterative.py'))}, "{port}"], port: 18097 }
slo: { p99_ms: 100 }
capacity: { start_rps: 25, probe_s: 1, warmup_s: 0.5, confirm_s: 2, precision: 0.2, max_seconds: 40 }
load:
  connection: new
  connections: 32
  timeout_ms: 2000
  phases:
    - { name: p, rate: 10, duration_s: 1 }
`,
    );
    const { tag, env } = newTag();
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
      execFile(process.execPath, [CLI, 'capacity', file, '--json'], { env, timeout: 70_000 }, (err, stdout, stderr) =>
        err ? reject(Object.assign(err, { stderr })) : resolve({ stdout, stderr }),
      ),
    );
    const s = (JSON.parse(stdout) as { servers: Record<string, unknown>[] }).servers[0];
    expect(s, stderr).toMatchObject({ server: 'py', model: 'external' });
    // Past its rate the queue grows (latency), and once HTTPServer's accept backlog of 5 is full new connections are
    // refused or time out (errors): which comes first near the limit depends on the moment, both are the server's.
    expect(['latency', 'errors'], stderr).toContain(s.gave_out);
    expect(s.max_sustainable_rps).toBeGreaterThanOrEqual(25);
    expect(s.max_sustainable_rps).toBeLessThanOrEqual(105);
    expect(taggedProcesses(tag)).toEqual([]);
  }, 80_000);

  it('refuses to search without an SLO, exit 2', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'srvlens-capacity-test-')), 'no-slo.yaml');
    writeFileSync(file, SCENARIO.replace('slo: { p99_ms: 250 }\n', ''));
    const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(process.execPath, [CLI, 'capacity', file], (err, _o, stderr) => resolve({ code: err ? Number((err as { code?: number }).code) : 0, stderr })),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no SLO to search against: give --slo "p99<100ms"');
  });
});
