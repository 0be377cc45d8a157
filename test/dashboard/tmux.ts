/**
 * A real terminal for end-to-end tests: a detached tmux session on a server of its own (-L), so tests never touch a
 * user's sessions. The command's exit code and standard error go to files, read once it has ended.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';

/** Throws, saying what to do, when tmux is missing: the end-to-end tests need it and must not pass without it. */
export function requireTmux(): void {
  const r = spawnSync('tmux', ['-V'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error('tmux is not installed, and the dashboard end-to-end tests run srvlens inside it: apt-get install -y tmux (CI must install it too)');
  }
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export class TmuxSession {
  private readonly socket = `srvlens-test-${randomUUID()}`;
  private readonly dir = mkdtempSync(join(tmpdir(), 'srvlens-tmux-'));
  readonly stderrFile = join(this.dir, 'stderr');
  private readonly codeFile = join(this.dir, 'code');
  /** Where the tmux server listens: removed with it, so that tests leave no socket files behind. */
  private readonly socketPath: string;

  /** Starts `argv` in a `columns` x `rows` pane, with `env` on top of ours. */
  constructor(argv: string[], columns: number, rows: number, env: Record<string, string> = {}) {
    const command = `${argv.map(quote).join(' ')} 2>${quote(this.stderrFile)}; echo $? >${quote(this.codeFile)}`;
    const vars = Object.entries({ NCURSES_NO_UTF8_ACS: '1', LANG: 'C.UTF-8', TERM: 'xterm-256color', ...env }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    this.tmux('new-session', '-d', '-x', String(columns), '-y', String(rows), ...vars, 'sh', '-c', command);
    this.socketPath = this.tmux('display-message', '-p', '#{socket_path}').trim();
  }

  capture(): string {
    return this.tmux('capture-pane', '-p');
  }

  /** The pane with its escape sequences (colours and attributes), as the terminal was told to draw it. */
  captureEscapes(): string {
    return this.tmux('capture-pane', '-p', '-e');
  }

  /** Resizes the terminal, as a user dragging its window does: the command gets SIGWINCH. */
  resize(columns: number, rows: number): void {
    this.tmux('resize-window', '-x', String(columns), '-y', String(rows));
  }

  /** tmux key names: Space, Right, Tab, q, C-c... */
  keys(...names: string[]): void {
    this.tmux('send-keys', ...names);
  }

  /** Waits until the pane shows `pattern` (or passes the check); the error shows the pane as it was. */
  async waitFor(pattern: RegExp | string | ((pane: string) => boolean), what: string, timeoutMs = 15_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    const shows = typeof pattern === 'string' ? (p: string) => p.includes(pattern) : pattern instanceof RegExp ? (p: string) => pattern.test(p) : pattern;
    for (;;) {
      const pane = this.ended() ? '' : this.capture();
      if (shows(pane)) return pane;
      if (Date.now() > end || this.ended()) throw new Error(`${what}: the pane never showed ${pattern}; it showed:\n${pane}\nstderr: ${this.stderr()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  ended(): boolean {
    return existsSync(this.codeFile) && readFileSync(this.codeFile, 'utf8').endsWith('\n');
  }

  /** The command's exit code, once it has ended. */
  async exitCode(timeoutMs = 15_000): Promise<number> {
    const end = Date.now() + timeoutMs;
    while (!this.ended()) {
      if (Date.now() > end) throw new Error(`the command did not end within ${timeoutMs} ms; the pane shows:\n${this.capture()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return Number(readFileSync(this.codeFile, 'utf8'));
  }

  /** Sends `signal` to the command, as `kill` from another terminal would: the pane runs it under sh, as sh's child. */
  signal(signal: NodeJS.Signals): void {
    const shell = this.tmux('display-message', '-p', '#{pane_pid}').trim();
    const children = readFileSync(`/proc/${shell}/task/${shell}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    if (children.length === 0) throw new Error(`the pane's shell (PID ${shell}) runs no command to signal`);
    for (const pid of children) process.kill(Number(pid), signal);
  }

  stderr(): string {
    return existsSync(this.stderrFile) ? readFileSync(this.stderrFile, 'utf8') : '';
  }

  /** Ends the session's tmux server (ours alone, by its socket) and whatever still runs in it. */
  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
    if (this.socketPath) rmSync(this.socketPath, { force: true });
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }
}
