import { LoadedModel, type SerializedModel, type Task } from '../../../../ml/src/index.js';
import { unpackModel } from '../../../../training/src/index.js';
import { DomainError } from '../../../../core/src/index.js';
import { DeploymentErrors } from '../../domain/deployment-errors.js';

export type ModelFormat = 'diyml' | 'teachable-machine' | 'tfjs-layers';

export interface InspectedModel {
  format: ModelFormat;
  task: Task;
  architecture: string;
  /** In model-output order. */
  labels: string[];
}

function invalid(message: string): DomainError {
  return DomainError.validation(DeploymentErrors.INVALID_MODEL_ARCHIVE, message);
}

function formatOf(serialized: SerializedModel): { format: ModelFormat; hasLabels: boolean } {
  const json = JSON.parse(serialized.modelJson) as { userDefinedMetadata?: { diyml?: { labels?: unknown } } };
  if (json.userDefinedMetadata?.diyml) return { format: 'diyml', hasLabels: Array.isArray(json.userDefinedMetadata.diyml.labels) };
  const metadata = serialized.metadataJson ? (JSON.parse(serialized.metadataJson) as { packageName?: string; labels?: unknown }) : {};
  const format = String(metadata.packageName ?? '').includes('teachablemachine') ? 'teachable-machine' : 'tfjs-layers';
  return { format, hasLabels: Array.isArray(metadata.labels) };
}

/**
 * Opens a model archive (a diyml export, or a Teachable Machine image-model export: model.json, weights.bin,
 * metadata.json) and proves it loads and runs, by loading it the way a deployment will.
 */
export async function inspectModelArchive(zip: Uint8Array): Promise<InspectedModel> {
  let serialized: SerializedModel;
  let described: { format: ModelFormat; hasLabels: boolean };
  try {
    serialized = unpackModel(zip);
    described = formatOf(serialized);
  } catch (error) {
    throw invalid(`The file is not a model archive (a zip with model.json and its weights): ${(error as Error).message}.`);
  }
  if (!described.hasLabels) {
    throw DomainError.validation(
      DeploymentErrors.MODEL_LABELS_MISSING,
      'The archive names no labels: add a metadata.json with {"labels": [...]} in model-output order, as Teachable Machine exports have.',
    );
  }
  let model: LoadedModel;
  try {
    model = await LoadedModel.load(serialized);
  } catch (error) {
    throw invalid(`The model could not be loaded: ${(error as Error).message}.`);
  }
  try {
    return { format: described.format, task: model.task, architecture: model.architectureId, labels: [...model.labels] };
  } finally {
    model.dispose();
  }
}

/**
 * The project's labels for the model's outputs, matched by name (exactly, else ignoring case). Labels are
 * never created by an import: a name the project lacks is a 400 listing them all.
 */
export function mapLabels(modelLabels: readonly string[], projectLabels: readonly { id: string; name: string }[]): { id: string; name: string }[] {
  const exact = new Map(projectLabels.map((label) => [label.name, label]));
  const folded = new Map(projectLabels.map((label) => [label.name.toLowerCase(), label]));
  const unknown: string[] = [];
  const mapped = modelLabels.map((name) => {
    const label = exact.get(name) ?? folded.get(name.toLowerCase());
    if (!label) unknown.push(name);
    return label ? { id: label.id, name: label.name } : { id: '', name };
  });
  if (unknown.length) {
    throw DomainError.validation(
      DeploymentErrors.UNKNOWN_MODEL_LABELS,
      `The model predicts labels the project does not have: ${unknown.join(', ')}. Add them to the project first.`,
      { unknownLabels: unknown, projectLabels: projectLabels.map((label) => label.name) },
    );
  }
  const ids = new Set(mapped.map((label) => label.id));
  if (ids.size !== mapped.length) {
    throw DomainError.validation(DeploymentErrors.UNKNOWN_MODEL_LABELS, 'Two of the model\'s labels match the same project label.', {
      modelLabels,
    });
  }
  return mapped;
}
