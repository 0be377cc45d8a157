/** Child processes of the CLI tests: started with their output gathered as text, waited for with a bound. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { waitUntil } from './processes.js';

export type GatheredChild = ChildProcess & { out: () => string; err: () => string };

/** `node ARGS` with stdout and stderr gathered as text; in `cwd` when given (else this process's). */
export function spawnGathered(args: string[], env: NodeJS.ProcessEnv, cwd?: string): GatheredChild {
  const child = spawn(process.execPath, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  return Object.assign(child, { out: () => out, err: () => err });
}

/** The child's exit code; it is killed (SIGKILL) if it has not exited within `timeoutMs`. */
export async function exitCode(child: ChildProcess, timeoutMs = 10_000): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return code;
}

/** The first truthy value of `get`, polled; throws naming `what` after `timeoutMs`. */
export async function until<T>(get: () => T | null | undefined | false, what: string, timeoutMs = 15_000): Promise<T> {
  let value: T | null | undefined | false = null;
  if (!(await waitUntil(() => Boolean((value = get())), timeoutMs))) throw new Error(`timed out waiting for ${what}`);
  return value as T;
}
