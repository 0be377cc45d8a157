/**
 * The runner's child processes (backend, server, generator, an external server's keeper), forked with an IPC
 * channel. Each child exits when the channel closes, so none outlives the runner even after SIGKILL; on an orderly
 * stop we still SIGTERM, wait, then SIGKILL, and `killAllNow` runs from the runner's 'exit' handler as a last resort.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { hasTag } from '../vocabulary/tagged-message.js';

/** A message over a child's IPC channel, tagged by its type; children whose messages are typed say so in `fork`. */
export interface ChildMessage {
  type: string;
  [key: string]: unknown;
}

/** The message of `In` tagged `T`; any message tagged `T` for a child whose messages are not typed. */
export type MessageOf<In extends { type: string }, T extends string> = string extends In['type'] ? In : Extract<In, { type: T }>;

/**
 * The one place a child's message is taken for its type: the runner's children are built from this same source
 * and send the types their entries import, so a message whose tag matches is trusted to be of that type.
 */
function isMessage<In extends { type: string }, T extends In['type']>(m: unknown, type: T): m is MessageOf<In, T> {
  return hasTag(m) && m.type === type;
}

const STDERR_TAIL_BYTES = 4096;
const STOP_GRACE_MS = 2000;

/** `In`: what the child sends, `Out`: what it is sent (its entry's message types). */
export class ManagedChild<In extends { type: string } = ChildMessage, Out extends { type: string } = ChildMessage> {
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

  on<T extends In['type']>(type: T, handler: (message: MessageOf<In, T>) => void): void {
    this.proc.on('message', (m: unknown) => {
      if (isMessage<In, T>(m, type)) handler(m);
    });
  }

  send(message: Out): void {
    // A child that has just exited can still look connected (its end of the channel closed, the disconnect not yet
    // seen): the write then fails with EPIPE, which without a callback is an 'error' event nobody handles, and the
    // runner crashed on it when a Ctrl-C to the whole group ended the generator first. Its exit is handled by
    // whoever waits for it; the message was for a child that no longer needs it.
    if (this.proc.connected) this.proc.send(message, (err) => void err);
  }

  /** Resolves with the first message of `type`; rejects if the child exits first or time runs out. */
  waitFor<T extends In['type']>(type: T, timeoutMs: number): Promise<MessageOf<In, T>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`${this.name}: no '${type}' within ${timeoutMs} ms${this.tail()}`)), timeoutMs);
      const onMessage = (m: unknown) => isMessage<In, T>(m, type) && finish(null, m);
      const onExit = (code: number | null, signal: string | null) =>
        finish(new Error(`${this.name} exited (${signal ?? `code ${code}`}) before '${type}'${this.tail()}`));
      const finish = (err: Error | null, m?: MessageOf<In, T>) => {
        clearTimeout(timer);
        this.proc.off('message', onMessage);
        this.proc.off('exit', onExit);
        if (m !== undefined) resolve(m);
        else reject(err);
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
  /** Only what stopping needs of a child, whatever its messages. */
  private readonly children = new Set<Pick<ManagedChild, 'alive' | 'proc' | 'processGroup' | 'stop'>>();

  /** `stopGraceMs`: how long `stop` waits after SIGTERM before SIGKILL (a keeper needs its server's grace and more). */
  fork<In extends { type: string } = ChildMessage, Out extends { type: string } = ChildMessage>(
    name: string,
    modulePath: string,
    options: { env?: Record<string, string>; execArgv?: string[]; stopGraceMs?: number } = {},
  ): ManagedChild<In, Out> {
    const proc = fork(modulePath, [], {
      env: { ...process.env, ...options.env },
      execArgv: options.execArgv ?? [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const child = new ManagedChild<In, Out>(name, proc, options.stopGraceMs);
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
