import { DomainError, isUuid } from '@diyml/core/pure';
import { labelNameKey, type LabelView } from '@diyml/projects';
import { DatasetErrors } from './dataset-errors.js';

/**
 * Clients name a label by its id or by its name (whatever its case or Unicode form, as the project compares names).
 * A name the project does not have is 400 UNKNOWN_LABEL; an id that is not one of this project's labels (e.g. another
 * project's) is 400 LABEL_NOT_IN_PROJECT.
 */
export function resolveLabel(labels: readonly LabelView[], reference: string): LabelView {
  const wanted = reference.trim();
  const byId = labels.find((label) => label.id.toLowerCase() === wanted.toLowerCase());
  if (byId) return byId;
  const key = labelNameKey(wanted);
  const byName = labels.find((label) => labelNameKey(label.name) === key);
  if (byName) return byName;
  if (isUuid(wanted)) {
    throw DomainError.validation(
      DatasetErrors.LABEL_NOT_IN_PROJECT,
      `Label ${wanted} is not a label of this project.`,
      { label: wanted },
    );
  }
  throw DomainError.validation(
    DatasetErrors.UNKNOWN_LABEL,
    `This project has no label "${wanted}"` +
      (labels.length
        ? `: its labels are ${labels.map((label) => `"${label.name}"`).join(', ')}.`
        : ' (it has no labels yet).'),
    { label: wanted, known: labels.map((label) => label.name) },
  );
}

/** `null` clears the label. */
export function resolveOptionalLabel(labels: readonly LabelView[], reference: string | null): LabelView | null {
  return reference === null ? null : resolveLabel(labels, reference);
}

/** Several references, resolved in turn (each once). */
export function resolveLabels(labels: readonly LabelView[], references: readonly string[]): LabelView[] {
  const resolved = references.map((reference) => resolveLabel(labels, reference));
  return resolved.filter((label, index) => resolved.findIndex((other) => other.id === label.id) === index);
}

/**
 * The `labels` text field of a multipart form: a JSON array of label names or ids (`["dog","outdoor"]`), or one
 * name. 400 INVALID_LABELS otherwise.
 */
export function parseLabelsText(text: string): string[] {
  const trimmed = text.trim();
  if (!trimmed.startsWith('[')) return [trimmed];
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    parsed = null;
  }
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string' && item.trim().length > 0)) {
    throw DomainError.validation(
      DatasetErrors.INVALID_LABELS,
      'The "labels" field must be a JSON array of label names or ids, e.g. ["dog","outdoor"].',
    );
  }
  return parsed as string[];
}
