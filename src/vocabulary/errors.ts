/**
 * How the CLI ends. A user's mistake (a bad scenario, a missing file) prints what and where, no stack, exit 2.
 * Our own failure prints the stack and exits 1, so it gets reported and fixed.
 */
export class UserError extends Error {
  readonly code: string;
  constructor(message: string, code = 'USER_ERROR') {
    super(message);
    this.code = code;
  }
}

export const EXIT = { ok: 0, internal: 1, usage: 2, interrupted: 130 } as const;

/** Errors that carry a stable `code` we assigned are about the user's input, not our bug. */
export function isUserError(err: unknown): boolean {
  if (err instanceof UserError) return true;
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^(SCENARIO_|RECORDING_|SRVLENS_SERVER_CONFIG)/.test(code);
}
