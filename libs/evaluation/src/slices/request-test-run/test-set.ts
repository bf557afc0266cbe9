import { DomainError } from '@diyml/core/pure';
import { type AnnotationIssue, readCocoFile } from '@diyml/datasets';
import type { TestImage } from '../../domain/test-manifest.js';

type RegionInput = { label?: unknown; x?: unknown; y?: unknown; width?: unknown; height?: unknown };

/** The model's labels, found by name (exactly, else ignoring case) or by project label id. */
export class ModelLabels {
  private readonly byKey = new Map<string, number>();

  constructor(labels: readonly { id: string; name: string }[]) {
    labels.forEach((label, index) => {
      this.byKey.set(label.id, index);
      this.byKey.set(`name:${label.name}`, index);
      if (!this.byKey.has(`folded:${label.name.toLowerCase()}`))
        this.byKey.set(`folded:${label.name.toLowerCase()}`, index);
    });
  }

  indexOf(reference: string): number | undefined {
    return (
      this.byKey.get(`name:${reference}`) ??
      this.byKey.get(`folded:${reference.toLowerCase()}`) ??
      this.byKey.get(reference)
    );
  }
}

/** Parses the `labels` field of an uploaded test set: a JSON object mapping file name to label or regions. */
export function parseLabelsField(field: string | undefined): Record<string, unknown> {
  if (field === undefined) {
    throw DomainError.validation(
      'LABELS_REQUIRED',
      'Send a "labels" field: a JSON object mapping each file name to its label (or regions).',
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(field);
  } catch {
    throw DomainError.validation('INVALID_LABELS', 'The "labels" field is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw DomainError.validation(
      'INVALID_LABELS',
      'The "labels" field must be a JSON object: {"<file name>": "<label>"}.',
    );
  }
  return Object.fromEntries(Object.entries(parsed).map(([name, answer]) => [uploadName(name), answer]));
}

/**
 * The key an uploaded file's answer is found by: its name after the last folder separator ('/' or a Windows '\\'),
 * in one Unicode form (macOS writes `é` as two characters, other systems as one).
 */
export function uploadName(path: string): string {
  return path.split(/[\\/]/).pop()!.normalize('NFC');
}

/** An annotation of the COCO field dropped or changed on the way in, with the sent file it is about (if any). */
export type TestAnnotationIssue = AnnotationIssue & { filename?: string };

/**
 * The `coco` field of an uploaded detection test set, read as a dataset import reads a COCO file: the answers by
 * upload name (uploadName: uploads carry no folders; in the `labels` field's form: regions in fractions), the
 * annotations dropped or changed, and the upload names several of its images share (their answer is unknowable).
 */
export function parseCocoField(field: string): {
  answers: Record<string, unknown>;
  issues: TestAnnotationIssue[];
  shared: Map<string, string[]>;
} {
  const coco = readCocoFile('the COCO file', new TextEncoder().encode(field), (message) =>
    DomainError.validation('INVALID_COCO', `The "coco" field cannot be read: ${message}`),
  );
  const answers: Record<string, unknown> = {};
  const paths = new Map<string, string[]>();
  const issues: TestAnnotationIssue[] = [...coco.unmatched];
  for (const image of coco.images) {
    const filename = uploadName(image.fileName);
    paths.set(filename, [...(paths.get(filename) ?? []), image.fileName]);
    answers[filename] = image.regions.map(({ labelName, ...box }) => ({ label: labelName, ...box }));
    issues.push(...image.issues.map((issue) => ({ ...issue, filename })));
  }
  const shared = new Map([...paths].filter(([, sharing]) => sharing.length > 1));
  for (const filename of shared.keys()) delete answers[filename];
  return { answers, issues, shared };
}

/**
 * The expected answer for one uploaded file, in model label indexes. Problems are collected (not thrown) so
 * one answer names every bad file.
 */
export function expectedOf(
  task: 'classification' | 'multilabel' | 'detection',
  value: unknown,
  labels: ModelLabels,
): { expected: number | null; expectedLabels?: number[]; regions: TestImage['regions'] } | { problem: string } {
  if (value === undefined || value === null) return { problem: 'has no entry in labels' };
  if (task === 'multilabel') {
    const references = typeof value === 'string' ? [value] : Array.isArray(value) ? (value as unknown[]) : null;
    if (!references || !references.every((reference) => typeof reference === 'string'))
      return { problem: 'needs a label name or an array of label names' };
    const expectedLabels: number[] = [];
    for (const reference of references as string[]) {
      const index = labels.indexOf(reference);
      if (index === undefined) return { problem: `label "${reference}" is not one the model predicts` };
      if (!expectedLabels.includes(index)) expectedLabels.push(index);
    }
    return { expected: null, expectedLabels, regions: [] };
  }
  if (task === 'classification') {
    const reference = typeof value === 'string' ? value : (value as { label?: unknown }).label;
    if (typeof reference !== 'string') return { problem: 'needs a label name' };
    const index = labels.indexOf(reference);
    if (index === undefined) return { problem: `label "${reference}" is not one the model predicts` };
    return { expected: index, regions: [] };
  }
  const list = Array.isArray(value) ? value : (value as { regions?: unknown }).regions;
  if (!Array.isArray(list)) return { problem: 'needs an array of regions {label, x, y, width, height}' };
  const regions: TestImage['regions'] = [];
  for (const region of list as RegionInput[]) {
    const { label, x, y, width, height } = region ?? {};
    const numbers = [x, y, width, height];
    if (typeof label !== 'string' || !numbers.every((n) => typeof n === 'number' && Number.isFinite(n))) {
      return { problem: 'regions need a label and numeric x, y, width, height' };
    }
    const [bx, by, bw, bh] = numbers as number[];
    if (bx < 0 || by < 0 || bw <= 0 || bh <= 0 || bx + bw > 1.0001 || by + bh > 1.0001) {
      return { problem: 'region coordinates are fractions of the image (0..1)' };
    }
    const index = labels.indexOf(label);
    if (index === undefined) return { problem: `label "${label}" is not one the model predicts` };
    regions.push({ label: index, x: bx, y: by, width: bw, height: bh });
  }
  return { expected: null, regions };
}
