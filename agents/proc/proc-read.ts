/**
 * Reading /proc for processes that may end at any moment. A process or thread can vanish between listing it and
 * reading its files (ENOENT, ESRCH), and another user's files may be closed to us (EACCES): every such read is
 * null, never a throw, and the caller treats the context as not seen in this sample.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** A failed system call carries a string errno `code`; anything else is a bug of ours and is rethrown. */
function orNull<T>(read: () => T): T | null {
  try {
    return read();
  } catch (err) {
    if (typeof (err as { code?: unknown }).code === 'string') return null;
    throw err;
  }
}

export const readProcText = (path: string): string | null => orNull(() => readFileSync(path, 'utf8'));
export const listProcDir = (path: string): string[] | null => orNull(() => readdirSync(path));
export const readProcLink = (path: string): string | null => orNull(() => readlinkSync(path));

/**
 * A /proc directory's entries, or why they could not be read: 'gone' when the process ended (ENOENT, ESRCH), 'closed'
 * when its files are closed to us (EACCES, EPERM: another user's process). The two need different words in evidence.
 */
export function listProcDirOrWhy(path: string): string[] | 'gone' | 'closed' {
  try {
    return readdirSync(path);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'EACCES' || code === 'EPERM') return 'closed';
    if (typeof code === 'string') return 'gone';
    throw err;
  }
}

/** The numeric entries of a /proc directory: processes under /proc, threads under /proc/PID/task. */
export function numericEntries(path: string): number[] {
  const names = listProcDir(path) ?? [];
  const out: number[] = [];
  for (const name of names) if (/^\d+$/.test(name)) out.push(Number(name));
  return out;
}

let ticks: number | undefined;

/**
 * Clock ticks per second, the unit of utime and stime. Asked of `getconf CLK_TCK` once; where that cannot run, 100:
 * the kernel's USER_HZ, which Linux fixed at 100 on every architecture it runs on for this very ABI.
 */
export function clockTicksPerSecond(): number {
  if (ticks === undefined) {
    let n = NaN;
    try {
      n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    } catch {
      // missing or failing getconf: the fallback below
    }
    ticks = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return ticks;
}
