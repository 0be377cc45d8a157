/**
 * The agent's explicit API, as application code sees it. The agent, when preloaded, installs its hooks on a global
 * symbol; without the agent every call is a cheap no-op, so the reference servers run the same code either way.
 *
 * node:http servers need only `markStage` (the agent sees request start and finish through diagnostics channels).
 * Servers that parse HTTP themselves (raw `net`, blocking sockets) also call `beginRequest` and `endRequest`.
 * `handle` is any object the server keeps for the request or its connection; one request at a time per handle.
 */
export const AGENT_HOOKS = Symbol.for('srvlens.agent.hooks');

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
}

function hooks(): AgentHooks | undefined {
  return (globalThis as Record<symbol, AgentHooks | undefined>)[AGENT_HOOKS];
}

export function markStage(handle: object, stage: number): void {
  const h = hooks();
  if (h !== undefined) h.stage(handle, stage);
}

export function beginRequest(handle: object, sendUs: number, acceptMs: number, traceparent?: string): void {
  const h = hooks();
  if (h !== undefined) h.begin(handle, sendUs, acceptMs, traceparent);
}

export function endRequest(handle: object): void {
  const h = hooks();
  if (h !== undefined) h.end(handle);
}

export function nameContext(name: string, hasLoop: boolean): void {
  const h = hooks();
  if (h !== undefined) h.context(name, hasLoop);
}
