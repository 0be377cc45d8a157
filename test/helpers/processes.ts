/** Live (not zombie) processes whose command line mentions one of srvlens's child entry points. */
import { readdirSync, readFileSync } from 'node:fs';

const ENTRIES = ['servers/serve-main.js', 'servers/backend-main.js', 'load/generator-main.js'];

export function srvlensChildren(): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const state = readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]?.[0];
      if (state !== 'Z' && ENTRIES.some((e) => cmd.includes(e))) out.push({ pid: Number(name), cmd });
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
