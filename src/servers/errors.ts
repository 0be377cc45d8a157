/**
 * Errors raised by the reference servers and the backend tier. Each has a stable `code` so the CLI and the
 * scenario runner can tell a user's mistake (print the message, no stack) from a fault of ours.
 */
import { UserError } from '../vocabulary/errors.js';

/** A configuration a user gave us is wrong (a flag, a scenario field): the message says what and how to fix it. */
export class ServerConfigError extends UserError {
  override readonly code = 'SRVLENS_SERVER_CONFIG';
  override readonly name = 'ServerConfigError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'SRVLENS_SERVER_CONFIG', options);
  }
}

/**
 * The backend connection is gone (refused, reset, or the backend closed): pending and later calls fail with it.
 * A user's mistake when it reaches the CLI: `srvlens serve --backend-port` names a backend that is not there. In a
 * run, the server answers 502 for it, or the runner reports the server's failed start in its own words.
 */
export class BackendClosedError extends UserError {
  override readonly code = 'SRVLENS_BACKEND_CLOSED';
  override readonly name = 'BackendClosedError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'SRVLENS_BACKEND_CLOSED', options);
  }
}
