/**
 * What a recording keeps of a scenario that may be secret: an external server's env values and the query strings
 * of the paths it asks for are left out of the header unless `record` asks, while the run itself uses them as
 * written. A real run through the CLI, its recording gunzipped and searched as bytes. Needs `npm run build` first.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseScenario } from '../../src/scenario/read-scenario.js';
import { recordedScenario } from '../../src/scenario/run/recorded-scenario.js';
import { freePort } from '../helpers/listen.js';

const CLI = join(import.meta.dirname, '../../dist/src/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'srvlens-privacy-'));
const SECRET = 'hunter2-env-0f3c9a';
const QUERY_SECRET = 'qs-key-77d1e4';

/**
 * The external server: exits 3 unless its env has the secret, and answers 500 to a request without the query's
 * key, so a run that passes used both as written.
 */
const APP = `
if (process.env.API_KEY !== '${SECRET}') { console.error('API_KEY missing'); process.exit(3); }
require('node:http').createServer((req, res) => {
  res.statusCode = req.url.includes('key=${QUERY_SECRET}') ? 200 : 500;
  res.end('ok');
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

/** In a file of its own: the command is recorded as written, and the app's source knows the secrets. */
const appFile = join(dir, 'app.cjs');
writeFileSync(appFile, APP);

async function scenario(name: string, port: number, record?: object): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    stringify({
      name,
      interval_ms: 500,
      servers: [{ name: 'app', command: [process.execPath, appFile], port, env: { API_KEY: SECRET, LOG_LEVEL: 'info' }, ready: { http: `/health?key=${QUERY_SECRET}` } }],
      load: { path: `/search?q=shoes&key=${QUERY_SECRET}`, connections: 2, phases: [{ name: 'steady', rate: 20, duration_s: 1 }] },
      ...(record ? { record } : {}),
    }),
  );
  return file;
}

function run(file: string): Promise<{ code: number; stderr: string; recording: string; report: string }> {
  const out = file.replace(/\.yaml$/, '.srvlens.gz');
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'run', file, '--out', out, '--quiet'], { timeout: 60_000 }, (err, _stdout, stderr) => {
      execFile(process.execPath, [CLI, 'report', out, '--format', 'json'], (_e, report) => {
        resolve({ code: err ? Number((err as { code?: number }).code) : 0, stderr, recording: gunzipSync(readFileSync(out)).toString('utf8'), report });
      });
    });
  });
}

describe('a recording of a scenario with secrets in it', () => {
  it('keeps the env names but not their values, and no query strings; the server got both', async () => {
    const r = await run(await scenario('redacted', await freePort()));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // Every request answered 200: the server had its env and the generator sent the query as written.
    const phase = JSON.parse(r.report).runs[0].phases[0];
    expect(phase.requests).toBeGreaterThan(10);
    expect(phase.errors).toBe(0);
    expect(r.recording).not.toContain(SECRET);
    expect(r.recording).not.toContain(QUERY_SECRET);
    const header = JSON.parse(r.recording.split('\n')[0]);
    expect(header.scenario.config.servers[0].env).toEqual({ API_KEY: '<redacted>', LOG_LEVEL: '<redacted>' });
    expect(header.scenario.config.servers[0].ready.http).toBe('/health?<redacted>');
    expect(header.scenario.config.load.path).toBe('/search?<redacted>');
  });

  it('keeps them when the scenario asks (record: { env: true, query_strings: true })', async () => {
    const r = await run(await scenario('kept', await freePort(), { env: true, query_strings: true }));
    expect(r.code, r.stderr).toBe(0);
    const header = JSON.parse(r.recording.split('\n')[0]);
    expect(header.scenario.config.servers[0].env).toEqual({ API_KEY: SECRET, LOG_LEVEL: 'info' });
    expect(header.scenario.config.load.path).toBe(`/search?q=shoes&key=${QUERY_SECRET}`);
  });
});

describe('recordedScenario', () => {
  it("redacts the mix's paths too, leaves a path without a query and a reference server as they are", () => {
    const s = parseScenario(
      `name: mix
servers:
  - { name: loop, model: event-loop }
load:
  mix:
    - { name: a, path: "/a?token=abc" }
    - { name: b, path: /b }
    - { name: c }
  phases: [{ name: p, rate: 1, duration_s: 1 }]
`,
      'mix.yaml',
    );
    const r = recordedScenario(s);
    expect(r.load.mix!.map((m) => m.path)).toEqual(['/a?<redacted>', '/b', undefined]);
    expect(r.load.path).toBe('/');
    expect(r.servers).toEqual(s.servers);
    // The run goes on with the scenario as written.
    expect(s.load.mix![0].path).toBe('/a?token=abc');
  });
});
