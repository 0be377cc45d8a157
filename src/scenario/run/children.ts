/**
 * The runner's child processes (backend, server, generator, an external server's keeper), forked with an IPC
 * channel. Each child exits when the channel closes, so none outlives the runner even after SIGKILL; on an orderly
 * stop we still SIGTERM, wait, then SIGKILL, and `killAllNow` runs from the runner's 'exit' handler as a last resort.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface ChildMessage {
  type: string;
  [key: string]: unknown;
}

const STDERR_TAIL_BYTES = 4096;
const STOP_GRACE_MS = 2000;

export class ManagedChild {
  stderrTail = '';
  /**
   * A process group the child started and answers for (an external server's, under its keeper): `killAllNow` ends
   * it too, since a keeper killed outright cannot.
   */
  processGroup: number | null = null;
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
    private readonly stopGraceMs = STOP_GRACE_MS,
  ) {
    proc.stdout?.resume();
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_BYTES);
    });
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  on(type: string, handler: (message: ChildMessage) => void): void {
    this.proc.on('message', (m: ChildMessage) => {
      if (m && m.type === type) handler(m);
    });
  }

  send(message: ChildMessage): void {
    if (this.proc.connected) this.proc.send(message);
  }

  /** Resolves with the first message of `type`; rejects if the child exits first or time runs out. */
  waitFor(type: string, timeoutMs: number): Promise<ChildMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`${this.name}: no '${type}' within ${timeoutMs} ms${this.tail()}`)), timeoutMs);
      const onMessage = (m: ChildMessage) => m && m.type === type && finish(null, m);
      const onExit = (code: number | null, signal: string | null) =>
        finish(new Error(`${this.name} exited (${signal ?? `code ${code}`}) before '${type}'${this.tail()}`));
      const finish = (err: Error | null, m?: ChildMessage) => {
        clearTimeout(timer);
        this.proc.off('message', onMessage);
        this.proc.off('exit', onExit);
        if (err) reject(err);
        else resolve(m as ChildMessage);
      };
      this.proc.on('message', onMessage);
      this.proc.once('exit', onExit);
    });
  }

  private tail(): string {
    const t = this.stderrTail.trim();
    return t ? `:\n${t}` : '';
  }

  /** The last `n` lines of its stderr (what a failed start most often explains itself with). */
  stderrLines(n: number): string {
    return this.stderrTail.trimEnd().split('\n').slice(-n).join('\n');
  }

  async stop(): Promise<void> {
    if (!this.alive) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), this.stopGraceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export class ChildSet {
  private readonly children = new Set<ManagedChild>();

  /** `stopGraceMs`: how long `stop` waits after SIGTERM before SIGKILL (a keeper needs its server's grace and more). */
  fork(name: string, modulePath: string, options: { env?: Record<string, string>; execArgv?: string[]; stopGraceMs?: number } = {}): ManagedChild {
    const proc = fork(modulePath, [], {
      env: { ...process.env, ...options.env },
      execArgv: options.execArgv ?? [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const child = new ManagedChild(name, proc, options.stopGraceMs);
    this.children.add(child);
    proc.once('exit', () => this.children.delete(child));
    return child;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.children].map((c) => c.stop()));
  }

  killAllNow(): void {
    for (const c of this.children) {
      if (c.alive) c.proc.kill('SIGKILL');
      if (c.processGroup !== null) killGroup(c.processGroup);
    }
  }

  get size(): number {
    return this.children.size;
  }
}

export async function exitOf(child: ManagedChild): Promise<void> {
  if (child.alive) await once(child.proc, 'exit');
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // already gone
  }
}
