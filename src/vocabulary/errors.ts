/**
 * How the CLI ends. A user's mistake (a bad scenario, a missing file, a PID that is not there) prints what and
 * where, no stack, exit 2. Our own failure prints the stack and exits 1, so it gets reported and fixed.
 *
 * Which is which is a property of the error's class: every error a user can cause extends UserError (or, if it
 * cannot, sets `userMistake`), so a new error class says what it is where it is declared, not in a list here.
 */
export class UserError extends Error {
  readonly userMistake = true;
  /** Stable, for scripts and tests: `SCENARIO_INVALID`, `PROC_NO_SUCH_PID`, ... */
  readonly code: string;
  constructor(message: string, code = 'USER_ERROR', options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/**
 * runFailed: `srvlens run` went through every server, but one of them (or its backend) died during its run.
 * diskFull: the disk of the recording filled; the run stopped, the records before are readable.
 */
export const EXIT = { ok: 0, internal: 1, usage: 2, runFailed: 3, diskFull: 4, interrupted: 130 } as const;

/** True for an error a user caused and can fix from its message alone (see UserError). */
export function isUserMistake(err: unknown): err is Error {
  return err instanceof Error && (err as { userMistake?: unknown }).userMistake === true;
}
