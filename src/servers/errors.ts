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

/** The backend connection is gone (refused, reset, or the backend closed): pending and later calls fail with it. */
export class BackendClosedError extends Error {
  readonly code = 'SRVLENS_BACKEND_CLOSED';
  override readonly name = 'BackendClosedError';
}
