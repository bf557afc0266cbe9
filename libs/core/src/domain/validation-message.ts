/** A field of a request and what is wrong with it, as a 400 VALIDATION_FAILED lists them. */
export interface FieldError {
  field: string;
  errors: string[];
}

/**
 * For a person: how many fields to fix, then each listed problem as a sentence, e.g. "The request has 2 invalid
 * fields. name must be shorter than or equal to 100 characters. iterationId must be a UUID."
 */
export function validationMessage(listed: FieldError[], problemCount: number): string {
  const unlisted = problemCount - listed.length;
  const which = unlisted > 0 ? ` (the first ${listed.length} below, and ${unlisted} more)` : '';
  const count = `The request has ${problemCount} invalid field${problemCount === 1 ? '' : 's'}${which}.`;
  return [count, ...listed.flatMap((problem) => problem.errors.map(asSentence))].join(' ');
}

function asSentence(text: string): string {
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}
