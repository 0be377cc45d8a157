/**
 * What one generator run is asked to do. The scenario runner builds this from a scenario file (and reports errors
 * there with file and line); `checkGeneratorConfig` is the last line of defence for callers that build it by hand.
 * Everything added after the first version is optional, so that a config of that version still runs unchanged.
 */
import { UserError } from '../vocabulary/errors.js';

/** How open-loop requests are spaced: evenly at the rate, or as a Poisson process (exponential gaps, seeded). */
export type Arrivals = 'even' | 'poisson';

interface PhaseBase {
  name: string;
  /** Seconds at the phase's starting load before its measured duration; those intervals are marked `warmup`. */
  warmup_s?: number;
}

interface OpenPhaseBase extends PhaseBase {
  arrivals?: Arrivals;
}

/**
 * Open-loop phases (constant, step, ramp) send on a schedule whatever the server does. A closed-loop phase has
 * `users` that each send, wait for the response, think, and send again: its rate is whatever the server allows.
 */
export type PhaseConfig =
  | (OpenPhaseBase & { kind: 'constant'; rate: number; duration_s: number })
  | (OpenPhaseBase & { kind: 'step'; rates: number[]; step_s: number })
  | (OpenPhaseBase & { kind: 'ramp'; from: number; to: number; duration_s: number })
  | (PhaseBase & { kind: 'closed'; users: number; duration_s: number; think_ms?: number; think?: 'fixed' | 'exponential' });

/** One kind of request in a weighted mix. Workload parameters travel in the query string (see request-bytes.ts). */
export interface MixEntry {
  name: string;
  weight: number;
  /** Defaults to the config's request.path. */
  path?: string;
  workload?: Record<string, number>;
}

export interface SlowClientsConfig {
  /** Connections that each send one request at a time, their head trickled in `chunks` pieces over `trickle_ms`. */
  connections: number;
  trickle_ms: number;
  chunks?: number;
}

export type ConnectionMode = 'keep-alive' | 'new';

export interface GeneratorConfig {
  target: { host: string; port: number };
  request: { method: string; path: string; headers?: Record<string, string> };
  /**
   * keep-alive: at most this many HTTP/1.1 connections, reused; a due request waits for a free one (send_wait).
   * new: at most this many connections at once, one per request.
   */
  connections: number;
  /** A request (or a connect) that has not finished this long after it was written is an error. */
  timeout_ms: number;
  /** Interval length on the shared monotonic clock; must match the agents' so that indices line up. */
  interval_ms: number;
  phases: PhaseConfig[];
  /** Default keep-alive. With `new`, each request opens its own connection and the connect is part of its time. */
  connection?: ConnectionMode;
  /** Weighted kinds of request; without it every request is `request`. */
  mix?: MixEntry[];
  /** Seed of Poisson arrivals, think times and the mix's draws (default 1): the same seed, the same sequence. */
  seed?: number;
  slow_clients?: SlowClientsConfig;
  /** Connections opened before the first phase and held open, sending nothing, beside the load (C10K). */
  idle_connections?: number;
  /** Generator threads; `auto` (the default) picks from the peak offered rate (see threads.ts). */
  threads?: number | 'auto';
}

/** A config the generator cannot run: says which field and why. */
export class GeneratorConfigError extends UserError {
  override readonly code = 'SRVLENS_LOAD_CONFIG';
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`generator config: ${path}: ${reason}`, 'SRVLENS_LOAD_CONFIG');
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

function nonNegative(path: string, v: unknown, integer = false): void {
  // Zero is allowed for rates: a pause phase keeps the connections open and reports intervals with nothing due.
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
    throw new GeneratorConfigError(path, `must be ${integer ? 'an integer' : 'a number'} >= 0, got ${String(v)}`);
  }
}

function urlPath(path: string, v: unknown): void {
  if (typeof v !== 'string' || !v.startsWith('/') || !NO_CTL.test(v) || v.includes(' ')) {
    throw new GeneratorConfigError(path, 'must start with "/" and contain no spaces or line breaks');
  }
}

function oneOf(path: string, v: unknown, allowed: readonly unknown[]): void {
  if (v !== undefined && !allowed.includes(v)) {
    throw new GeneratorConfigError(path, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${String(v)}`);
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
  urlPath('request.path', c.request.path);
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
  c.phases.forEach((p, i) => checkPhase(p, `phases[${i}]`));
  oneOf('connection', c.connection, ['keep-alive', 'new']);
  if (c.seed !== undefined) nonNegative('seed', c.seed, true);
  if (c.mix !== undefined) {
    if (!Array.isArray(c.mix) || c.mix.length === 0) throw new GeneratorConfigError('mix', 'must list at least one entry');
    c.mix.forEach((m, i) => {
      if (typeof m.name !== 'string' || m.name === '') throw new GeneratorConfigError(`mix[${i}].name`, 'must be a non-empty string');
      positive(`mix[${i}].weight`, m.weight, false);
      if (m.path !== undefined) urlPath(`mix[${i}].path`, m.path);
      for (const [k, v] of Object.entries(m.workload ?? {})) {
        if (!/^[a-z0-9_]+$/.test(k)) throw new GeneratorConfigError(`mix[${i}].workload.${k}`, 'must be a name of a-z, 0-9 and _');
        nonNegative(`mix[${i}].workload.${k}`, v);
      }
    });
  }
  if (c.slow_clients !== undefined) {
    positive('slow_clients.connections', c.slow_clients.connections, true);
    nonNegative('slow_clients.trickle_ms', c.slow_clients.trickle_ms);
    if (c.slow_clients.chunks !== undefined) positive('slow_clients.chunks', c.slow_clients.chunks, true);
  }
  if (c.idle_connections !== undefined) nonNegative('idle_connections', c.idle_connections, true);
  if (c.threads !== undefined && c.threads !== 'auto') positive('threads', c.threads, true);
}

function checkPhase(p: PhaseConfig, at: string): void {
  if (typeof p.name !== 'string' || p.name === '') throw new GeneratorConfigError(`${at}.name`, 'must be a non-empty string');
  if (p.warmup_s !== undefined) nonNegative(`${at}.warmup_s`, p.warmup_s);
  if (p.kind !== 'closed') oneOf(`${at}.arrivals`, p.arrivals, ['even', 'poisson']);
  switch (p.kind) {
    case 'constant':
      nonNegative(`${at}.rate`, p.rate);
      positive(`${at}.duration_s`, p.duration_s, false);
      return;
    case 'step':
      if (!Array.isArray(p.rates) || p.rates.length === 0) throw new GeneratorConfigError(`${at}.rates`, 'must list at least one rate');
      p.rates.forEach((r, j) => nonNegative(`${at}.rates[${j}]`, r));
      positive(`${at}.step_s`, p.step_s, false);
      return;
    case 'ramp':
      nonNegative(`${at}.from`, p.from);
      nonNegative(`${at}.to`, p.to);
      positive(`${at}.duration_s`, p.duration_s, false);
      return;
    case 'closed':
      positive(`${at}.users`, p.users, true);
      positive(`${at}.duration_s`, p.duration_s, false);
      if (p.think_ms !== undefined) nonNegative(`${at}.think_ms`, p.think_ms);
      oneOf(`${at}.think`, p.think, ['fixed', 'exponential']);
      return;
    default:
      throw new GeneratorConfigError(`${at}.kind`, `must be "constant", "step", "ramp" or "closed", got ${String((p as { kind: unknown }).kind)}`);
  }
}
