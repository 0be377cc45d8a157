/**
 * Runs one built bench as a child process with `--json`: its JSON on stdout is the result, its progress on stderr
 * goes through to ours, each line under the bench's name. A process of its own per bench, as each bench starts and
 * stops servers, loads and signal handlers of its own, and one that fails leaves the others to run.
 */
import { spawn } from 'node:child_process';
import { benchFile } from '../child-entries.js';

export class BenchFailed extends Error {}

/** Last lines of a bench's stderr kept, to find a failure's reason in. */
const TAIL_LINES = 40;

/**
 * A failed bench's reason from its last lines: the first error line and the one after it (a message often goes on
 * below it: "the blocking models need srvlens's native addon ..."), not the stack under them; else the last lines.
 */
export function failureReason(tail: readonly string[]): string {
  const lines = tail.map((l) => l.trim()).filter((l) => l && !l.startsWith('at ') && l !== '^');
  // "agent-overhead: Error: ...", "Error: ...": a thrown error's own line, not the source line that threw it.
  const i = lines.findIndex((l) => /^(?:[\w-]+: )?\w*Error:/.test(l));
  return (i >= 0 ? lines.slice(i, i + 2) : lines.slice(-3)).join(' / ');
}

export async function runBench(id: string, entry: string, args: readonly string[], nodeArgs: readonly string[], timeoutMs: number): Promise<unknown> {
  const child = spawn(process.execPath, [...nodeArgs, benchFile(entry), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let partial = '';
  const tail: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    const lines = (partial + d).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      process.stderr.write(`  [${id}] ${line}\n`);
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
    }
  });
  // A bench that hangs must not hold the whole suite (and the machine's load lock) past its time.
  let late = false;
  const timer = setTimeout(() => {
    late = true;
    child.kill('SIGINT');
  }, timeoutMs);
  const stopOnExit = () => child.kill('SIGKILL');
  process.once('exit', stopOnExit);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('close', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  process.removeListener('exit', stopOnExit);
  if (partial) tail.push(partial);
  const why = failureReason(tail);
  if (code !== 0) {
    const how = signal ? `was stopped by ${signal}` : `exited ${code}`;
    const over = late ? ` (over its ${Math.round(timeoutMs / 1000)} s)` : '';
    throw new BenchFailed(`${how}${over}${why ? `: ${why}` : ''}`);
  }
  try {
    return JSON.parse(out);
  } catch {
    throw new BenchFailed(`printed no JSON on stdout (${out.length} bytes: ${out.slice(0, 80)})`);
  }
}
