/**
 * The agent's explicit API, as application code sees it. The agent, when preloaded, installs its hooks on a global
 * symbol; without the agent every call is a cheap no-op, so the reference servers run the same code either way.
 *
 * node:http servers need only `markStage` (the agent sees request start and finish through diagnostics channels).
 * Servers that parse HTTP themselves (raw `net`, blocking sockets) also call `beginRequest` and `endRequest`.
 * `handle` is any object the server keeps for the request or its connection; one request at a time per handle.
 */
import { isTagged } from './tagged-message.js';

export const AGENT_HOOKS = Symbol.for('srvlens.agent.hooks');

/**
 * The kernel's name (comm) of the agent's own thread in every process it observes: `ps -L` and top show it, and
 * the /proc agent leaves the observer out when it reads how a server spreads its work over threads.
 */
export const AGENT_THREAD_COMM = 'srvlens-agent';

export interface AgentHooks {
  /**
   * A request's handler starts now. sendUs: the client's SEND_TIME_HEADER value (µs) or 0; acceptMs: monoMs() at
   * accept, or 0; traceparent: the request's W3C traceparent header, if any (continued by exemplar traces).
   */
  begin(handle: object, sendUs: number, acceptMs: number, traceparent?: string): void;
  /** From now on the request is in `stage` (a STAGE index). */
  stage(handle: object, stage: number): void;
  /** The response's last byte has been handed to the kernel. */
  end(handle: object): void;
  /** Names the calling thread's execution context; hasLoop=false for threads that block (no event-loop figures for them). */
  context(name: string, hasLoop: boolean): void;
  /**
   * Main thread only: harvests the interval in progress now and exports it, for a process about to exit (a process
   * that lives for one connection would otherwise end before its interval does). Resolves when it was sent.
   */
  flush?(): Promise<void>;
  /**
   * For a process that lives for one connection: what its main thread measured, as a message to send to its parent
   * over the fork's IPC channel (no exporter to load, about a millisecond), or null.
   */
  handOff?(): AgentHandOff | null;
  /** In the parent: a child's hand-off, given to this process's agent to report as one of its contexts. */
  accept?(message: AgentHandOff): void;
  /** In the parent, at fork: a child that will hand off; its CPU is read from /proc while it lives. */
  adopt?(pid: number, name: string): void;
}

/** A short-lived child's measurements on their way to the parent's agent. Opaque to the servers that carry it. */
export interface AgentHandOff {
  type: 'srvlens.agent.handoff';
  [key: string]: unknown;
}

function hooks(): AgentHooks | undefined {
  return (globalThis as Record<symbol, AgentHooks | undefined>)[AGENT_HOOKS];
}

/**
 * From now on the request of `handle` (node:http: its `res`) is in `stage`, a STAGE value (an app marks parse,
 * process, downstream, transform or send); the time until the next mark, or the response's end, is that stage's.
 */
export function markStage(handle: object, stage: number): void {
  const h = hooks();
  if (h !== undefined) h.stage(handle, stage);
}

/**
 * For a server that parses HTTP itself (node:http servers need not call it): the request of `handle` starts its
 * handler now. sendUs: the request's SEND_TIME_HEADER as a number (µs) or 0; acceptMs: monoMs() when its connection
 * was accepted, or 0; traceparent: its W3C traceparent header, if any.
 */
export function beginRequest(handle: object, sendUs: number, acceptMs: number, traceparent?: string): void {
  const h = hooks();
  if (h !== undefined) h.begin(handle, sendUs, acceptMs, traceparent);
}

/** For a server that parses HTTP itself: the last byte of the response of `handle` has been handed to the kernel. */
export function endRequest(handle: object): void {
  const h = hooks();
  if (h !== undefined) h.end(handle);
}

/**
 * Names the calling thread's execution context in the agent's reports. hasLoop=false for a thread that blocks and
 * serves one request at a time: it gets no event-loop figures, and each request's wall time is split by the
 * thread's schedstat into on CPU, run-queue wait and blocked.
 */
export function nameContext(name: string, hasLoop: boolean): void {
  const h = hooks();
  if (h !== undefined) h.context(name, hasLoop);
}

/**
 * Before a short-lived process exits: lets the agent send what it measured so far, waiting at most `timeoutMs`.
 * Like an OpenTelemetry SDK's shutdown before exit. Without the agent it resolves at once.
 */
export function flushAgent(timeoutMs = 1000): Promise<void> {
  const h = hooks();
  if (h?.flush === undefined) return Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  // The timer is ref'd on purpose: it keeps the process alive until the flush is done or given up.
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  return Promise.race([h.flush().catch(() => undefined), timeout]).finally(() => clearTimeout(timer));
}

/** In a short-lived child, before it exits: sends what its agent measured to the parent (see AgentHooks.handOff). */
export function handOffToParent(): Promise<void> {
  const message = hooks()?.handOff?.() ?? null;
  if (message === null || process.send === undefined || !process.connected) return Promise.resolve();
  return new Promise((resolve) => process.send!(message, () => resolve()));
}

/** In the parent: passes a child's message on to the agent when it is a hand-off; other messages are ignored. */
export function acceptHandOff(message: unknown): void {
  if (isTagged<AgentHandOff>(message, HAND_OFF)) hooks()?.accept?.(message);
}

/**
 * In the parent, right after forking a child that will hand off (handOffToParent) under the name `name`: the agent
 * reads the child's CPU from /proc in every interval it lives, so that it is counted where it was spent; the
 * hand-off then adds only the rest.
 */
export function adoptChild(pid: number, name: string): void {
  hooks()?.adopt?.(pid, name);
}

const HAND_OFF = { 'srvlens.agent.handoff': true } as const;
