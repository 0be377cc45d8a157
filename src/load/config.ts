/**
 * What one generator run is asked to do. The scenario runner builds this from a scenario file (and reports errors
 * there with file and line); `checkGeneratorConfig` is the last line of defence for callers that build it by hand.
 */

/** Open-loop phases. A step phase is a sequence of constant sub-rates, each `step_s` long, under one phase name. */
export type PhaseConfig =
  | { name: string; kind: 'constant'; rate: number; duration_s: number }
  | { name: string; kind: 'step'; rates: number[]; step_s: number };

export interface GeneratorConfig {
  target: { host: string; port: number };
  request: { method: string; path: string; headers?: Record<string, string> };
  /** Keep-alive HTTP/1.1 connections in the pool; a due request waits for a free one (that wait is send_wait). */
  connections: number;
  /** A request (or a connect) that has not finished this long after it was written is an error. */
  timeout_ms: number;
  /** Interval length on the shared monotonic clock; must match the agents' so that indices line up. */
  interval_ms: number;
  phases: PhaseConfig[];
}

/** A config the generator cannot run: says which field and why. */
export class GeneratorConfigError extends Error {
  readonly code = 'SRVLENS_LOAD_CONFIG';
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`generator config: ${path}: ${reason}`);
    this.name = 'GeneratorConfigError';
  }
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Header values and the path go onto the wire verbatim: a CR or LF in them would split the request.
const NO_CTL = /^[^\r\n\0]*$/;

function positive(path: string, v: unknown, integer: boolean): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw new GeneratorConfigError(path, `must be a positive ${integer ? 'integer' : 'number'}, got ${String(v)}`);
  }
}

function rate(path: string, v: unknown): void {
  // Zero is allowed: a pause phase keeps the connections open and reports intervals with nothing due.
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new GeneratorConfigError(path, `must be a rate >= 0 req/s, got ${String(v)}`);
  }
}

/** Throws a GeneratorConfigError naming the first field that cannot be run. */
export function checkGeneratorConfig(c: GeneratorConfig): void {
  if (typeof c.target?.host !== 'string' || c.target.host === '') {
    throw new GeneratorConfigError('target.host', 'must be a host name or address');
  }
  if (!Number.isInteger(c.target.port) || c.target.port < 1 || c.target.port > 65535) {
    throw new GeneratorConfigError('target.port', `must be a port number, got ${String(c.target.port)}`);
  }
  if (typeof c.request?.method !== 'string' || !TOKEN.test(c.request.method)) {
    throw new GeneratorConfigError('request.method', `must be an HTTP method token, got ${String(c.request?.method)}`);
  }
  if (typeof c.request.path !== 'string' || !c.request.path.startsWith('/') || !NO_CTL.test(c.request.path) || c.request.path.includes(' ')) {
    throw new GeneratorConfigError('request.path', 'must start with "/" and contain no spaces or line breaks');
  }
  for (const [name, value] of Object.entries(c.request.headers ?? {})) {
    if (!TOKEN.test(name)) throw new GeneratorConfigError(`request.headers.${name}`, 'is not a valid header name');
    if (typeof value !== 'string' || !NO_CTL.test(value)) {
      throw new GeneratorConfigError(`request.headers.${name}`, 'must be a string without line breaks');
    }
  }
  positive('connections', c.connections, true);
  positive('timeout_ms', c.timeout_ms, false);
  positive('interval_ms', c.interval_ms, true);
  if (!Array.isArray(c.phases) || c.phases.length === 0) {
    throw new GeneratorConfigError('phases', 'must list at least one phase');
  }
  c.phases.forEach((p, i) => {
    const at = `phases[${i}]`;
    if (typeof p.name !== 'string' || p.name === '') throw new GeneratorConfigError(`${at}.name`, 'must be a non-empty string');
    if (p.kind === 'constant') {
      rate(`${at}.rate`, p.rate);
      positive(`${at}.duration_s`, p.duration_s, false);
    } else if (p.kind === 'step') {
      if (!Array.isArray(p.rates) || p.rates.length === 0) throw new GeneratorConfigError(`${at}.rates`, 'must list at least one rate');
      p.rates.forEach((r, j) => rate(`${at}.rates[${j}]`, r));
      positive(`${at}.step_s`, p.step_s, false);
    } else {
      throw new GeneratorConfigError(`${at}.kind`, `must be "constant" or "step", got ${String((p as { kind: unknown }).kind)}`);
    }
  });
}
