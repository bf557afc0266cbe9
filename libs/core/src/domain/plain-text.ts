import { DomainError } from './domain-error.js';

/** NUL and the other C0 controls except tab, line feed and carriage return, and DEL. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
/** Half of a UTF-16 surrogate pair without its other half: not a character, and refused by JSONB and most stores. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const INVALID_CHARACTERS = 'INVALID_CHARACTERS';

/** What makes the text unfit to be stored and shown (a control character, a lone surrogate), or null. */
export function textProblem(text: string): string | null {
  const control = CONTROL.exec(text);
  if (control) return `the control character U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  if (LONE_SURROGATE.test(text)) return 'a lone UTF-16 surrogate (half of a character)';
  return null;
}

/** Names and texts people choose: 400 INVALID_CHARACTERS naming the field when it holds a control character or a lone surrogate. */
export function requirePlainText(field: string, text: string): void {
  const problem = textProblem(text);
  if (problem) {
    throw DomainError.validation(INVALID_CHARACTERS, `${field} contains ${problem}: remove it.`, { field });
  }
}

/** Text taken from files (file names, paths in a zip): control characters and lone surrogates become U+FFFD. */
export function toPlainText(text: string): string {
  return text.replace(new RegExp(`${CONTROL.source}|${LONE_SURROGATE.source}`, 'g'), '\uFFFD');
}
