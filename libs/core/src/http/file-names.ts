import { DomainError } from '../domain/domain-error.js';
import { textProblem } from '../domain/plain-text.js';

export const INVALID_FILENAME = 'INVALID_FILENAME';
/** Longest file name taken, in UTF-8 bytes (what most file systems allow). */
export const MAX_FILENAME_BYTES = 255;

/**
 * 400 INVALID_FILENAME for a name a client gave a file that no one could store or show: a control character or
 * lone surrogate, a path separator (a name, not a path), or more than MAX_FILENAME_BYTES. Null when it is fine.
 * Multipart uploads read by multer arrive with any folder path already cut off (busboy keeps the last segment).
 */
export function fileNameError(filename: string): DomainError | null {
  const quoted = JSON.stringify(filename.slice(0, 80));
  const problem = textProblem(filename) ?? (/[/\\]/.test(filename) ? 'a path separator (/ or \\)' : null);
  if (problem) {
    return DomainError.validation(INVALID_FILENAME, `The file name ${quoted} contains ${problem}: rename the file.`);
  }
  if (Buffer.byteLength(filename) > MAX_FILENAME_BYTES) {
    return DomainError.validation(
      INVALID_FILENAME,
      `The file name ${quoted}… is longer than ${MAX_FILENAME_BYTES} bytes: rename the file.`,
      { maxBytes: MAX_FILENAME_BYTES },
    );
  }
  return null;
}

/** Throws fileNameError's 400 INVALID_FILENAME when the name is unfit. */
export function requireFileName(filename: string): void {
  const error = fileNameError(filename);
  if (error) throw error;
}
