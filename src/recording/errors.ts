/** Errors for files that cannot be read as recordings at all. Damage inside a recording is not an error: see reader.ts. */
import { EXIT, UserError } from '../vocabulary/errors.js';

export type RecordingErrorCode = 'RECORDING_NOT_FOUND' | 'RECORDING_INVALID' | 'RECORDING_UNSUPPORTED' | 'RECORDING_DISK_FULL';

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

/**
 * The disk holding a recording filled while it was written (ENOSPC, or EDQUOT, EFBIG: a quota, a file size limit).
 * The records before are whole and readable; the command stops its run and exits EXIT.diskFull.
 */
export class RecordingDiskFull extends RecordingError {
  override name = 'RecordingDiskFull';
  readonly exitCode = EXIT.diskFull;

  constructor(file: string, cause: NodeJS.ErrnoException, records: number, bytes: number) {
    super(
      'RECORDING_DISK_FULL',
      file,
      `cannot write the recording ${file}: ${cause.code === 'ENOSPC' ? 'no space left on its disk' : cause.message}. It holds the ${records} records (${bytes} bytes) written before, readable as they are (srvlens report ${file}); free some space or record elsewhere (--out)`,
    );
  }
}
