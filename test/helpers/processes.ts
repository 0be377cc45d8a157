/**
 * Finds the live (not zombie) processes a test started, however deep: the test gives the process it spawns an
 * environment variable with a tag of its own, and every descendant inherits it. (Command lines do not do: the
 * reference servers retitle themselves, which rewrites /proc/PID/cmdline.)
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

export const TAG_VAR = 'SRVLENS_TEST_TAG';

export function newTag(): { tag: string; env: NodeJS.ProcessEnv } {
  const tag = randomUUID();
  return { tag, env: { ...process.env, [TAG_VAR]: tag } };
}

export function taggedProcesses(tag: string): { pid: number; cmd: string }[] {
  const needle = `${TAG_VAR}=${tag}`;
  const out: { pid: number; cmd: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const state = readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]?.[0];
      if (state === 'Z') continue;
      if (!readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').includes(needle)) continue;
      out.push({ pid: Number(name), cmd: readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ') });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

export async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}
