/**
 * Who may reach srvlens's listeners: the one home of the rule every listener follows (collector, dashboard, the
 * agent's Prometheus endpoint, reference servers, backend). Loopback is open, as it is to anything else on the host;
 * any other address needs a token, given as `--token` or SRVLENS_TOKEN, and the listeners that carry data (OTLP in,
 * /metrics out) then ask every request for `Authorization: Bearer TOKEN`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { UserError } from './errors.js';

export const TOKEN_ENV = 'SRVLENS_TOKEN';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * True for 127.0.0.0/8, ::1 (and IPv4-mapped loopback, which BlockList matches for IPv4 rules) and `localhost`.
 * Any other name is not resolved: a name could point anywhere, so it counts as beyond loopback.
 */
export function isLoopback(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === 'localhost.') return true;
  const family = isIP(h);
  if (family === 0) return false;
  return LOOPBACK.check(h, family === 4 ? 'ipv4' : 'ipv6');
}

/** The token from the option, else from SRVLENS_TOKEN; an empty one is none. */
export function tokenFrom(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string | null {
  return option || env[TOKEN_ENV] || null;
}

/**
 * Why a listener must not bind `host` with `token`, in one line that says how to give a token; null when it may.
 * `hostSetting` names where the address came from (`--host 0.0.0.0`, `SRVLENS_PROMETHEUS_HOST=0.0.0.0`).
 */
export function exposureRefusal(host: string, token: string | null, hostSetting: string, tokenSetting = `--token TOKEN or ${TOKEN_ENV}=TOKEN`): string | null {
  if (token !== null || isLoopback(host)) return null;
  return `${hostSetting} is beyond loopback: anyone who can reach it could use it, so it needs a token (${tokenSetting}; e.g. TOKEN=$(openssl rand -hex 16)), or listen on 127.0.0.1`;
}

/** exposureRefusal as the UserError a command ends with (exit 2, the one line, no stack). */
export function requireTokenBeyondLoopback(host: string, token: string | null, hostSetting: string): void {
  const refusal = exposureRefusal(host, token, hostSetting);
  if (refusal !== null) throw new UserError(refusal, 'EXPOSED_WITHOUT_TOKEN');
}

/** `Authorization: Bearer TOKEN` for a client that sends the token. */
export function bearerHeader(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Null when the request's Authorization header carries the token, else why not (for the 401's body). Compared as
 * SHA-256 digests with timingSafeEqual: equal lengths whatever was sent, so the time says nothing of the token.
 */
export function bearerProblem(authorization: string | string[] | undefined, token: string): string | null {
  if (authorization === undefined || authorization === '') return 'no Authorization header: send Authorization: Bearer TOKEN';
  const value = Array.isArray(authorization) ? authorization[0] : authorization;
  const match = /^Bearer[ ]+(.+)$/i.exec(value.trim());
  if (match === null) return 'the Authorization header is not Bearer TOKEN';
  return timingSafeEqual(digest(match[1]), digest(token)) ? null : 'wrong token';
}
