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

/** Accepted fields named in an unknown field's message; a DTO with more is cut short with "…". */
const MAX_NAMED_FIELDS = 25;

/**
 * For a field a request does not take: which fields the request (or the object `field` sits in) takes, so a typo or
 * a setting put at the wrong level is fixed at once, e.g. "epochs is not a field of this request, which takes:
 * trainingConfig".
 */
export function unknownFieldMessage(field: string, accepted: readonly string[]): string {
  const dot = field.lastIndexOf('.');
  const where = dot > 0 ? field.slice(0, dot) : 'this request';
  if (accepted.length === 0) return `${field} is not a field of ${where}, which takes none`;
  const named = accepted.length > MAX_NAMED_FIELDS ? [...accepted.slice(0, MAX_NAMED_FIELDS), '…'] : accepted;
  return `${field} is not a field of ${where}, which takes: ${named.join(', ')}`;
}
