/**
 * `srvlens attach` with the kernel tracer, as a user runs it: as root the summary holds the requests the kernel saw;
 * as another user it says once why there are none and gives the /proc figures as before.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AttachJson } from '../../../agents/proc/attach-report.js';
import { waitUntil } from '../../helpers/processes.js';
import { startTimedHttp, stopAll } from '../proc/real-servers.js';

const CLI = join(import.meta.dirname, '../../../dist/src/cli.js');
/** nobody: a user with no capability to load BPF programs. */
const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];

afterEach(stopAll);

async function get(port: number, agent: http.Agent): Promise<void> {
  await new Promise<void>((resolve, reject) => http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => res.resume().on('end', resolve)).on('error', reject));
}

describe('srvlens attach and the kernel tracer', () => {
  it('as root: the requests of the window, counted exactly, beside the /proc figures', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'srvlens-attach-kernel-')), 'server.log');
    const server = await startTimedHttp(log, 'threading', 0.5, 2);
    const child = spawn(process.execPath, [CLI, 'attach', '--pid', String(server.pid), '--duration', '4', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(await waitUntil(() => stderr.includes('kernel tracer attached'), 20_000), stderr).toBe(true);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 3 });
    await Promise.all(Array.from({ length: 3 }, async () => { for (let i = 0; i < 20; i++) await get(server.port, agent); }));
    agent.destroy();
    expect(await exited, stderr).toBe(0);
    const doc = JSON.parse(stdout) as AttachJson;
    expect(doc.requests_unmeasured).toBeNull();
    expect(doc.requests?.requests, JSON.stringify(doc.requests)).toBe(60);
    expect(doc.requests?.responses).toBe(60);
    expect(doc.requests?.accepts).toBe(3);
    expect(doc.requests?.split_n).toBe(60);
    expect(doc.samples).toBeGreaterThan(0);
  }, 60_000);

  it('as another user: says once that the tracer needs root, and carries on with /proc', async () => {
    const server = await startTimedHttp(join(mkdtempSync(join(tmpdir(), 'srvlens-attach-kernel-')), 'server.log'), 'threading', 0, 0);
    const r = await promisify(execFile)('setpriv', [...NOBODY, process.execPath, CLI, 'attach', '--pid', String(server.pid), '--duration', '0.5', '--json'], { timeout: 30_000 });
    const doc = JSON.parse(r.stdout) as AttachJson;
    expect(doc.requests).toBeNull();
    expect(doc.requests_unmeasured).toMatch(/^kernel tracer: needs root/);
    expect(r.stderr.match(/kernel tracer: needs root/g), r.stderr).toHaveLength(1);
    expect(r.stderr).toContain('carrying on with /proc alone');
    expect(doc.samples).toBeGreaterThan(0);
  }, 60_000);
});
