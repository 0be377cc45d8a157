/** Errors for files that cannot be read as recordings at all. Damage inside a recording is not an error: see reader.ts. */
import { UserError } from '../vocabulary/errors.js';

export type RecordingErrorCode = 'RECORDING_NOT_FOUND' | 'RECORDING_INVALID' | 'RECORDING_UNSUPPORTED';

export class RecordingError extends UserError {
  override name = 'RecordingError';

  constructor(
    override readonly code: RecordingErrorCode,
    readonly file: string,
    message: string,
  ) {
    super(message, code);
  }
}
