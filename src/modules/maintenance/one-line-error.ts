import { sanitizeLogText } from '../../common/logging/sanitize-log-text';
import { errorText } from '../../common/errors/error-text';

/** An error's message fit for a single log line (control characters, newlines included, become '?'). */
export function oneLineError(error: unknown): string {
  return sanitizeLogText(errorText(error));
}
