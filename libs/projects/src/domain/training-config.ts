import { DomainError, type FieldError, isUuid, unknownFieldMessage, validationMessage } from '@diyml/core/pure';
import { assertArchitectureFor, assertBackboneFor, assertBaseModelFor, DEFAULT_ARCHITECTURE } from './architectures.js';
import type { ProjectType } from './project-type.js';

/**
 * Random changes applied to training images each epoch. The names and meaning follow libs/ml's
 * AugmentationOptions, so training can pass them straight through.
 */
export type AugmentationConfig = {
  /** Flip half the images left to right (boxes are flipped with them). */
  horizontalFlip: boolean;
  /** Smallest fraction of each side a random crop keeps; 1 turns cropping off. */
  cropScale: number;
  /** Largest brightness shift as a fraction of the full range; 0 turns it off. */
  brightness: number;
};

/** Stop when the validation loss has not improved for `patience` epochs. */
export type EarlyStoppingConfig = {
  enabled: boolean;
  patience: number;
};

/** How a project trains: stored in TrainingConfigured, copied into each iteration (with its overrides). */
export type TrainingConfig = {
  learningRate: number;
  epochs: number;
  batchSize: number;
  /** Images are resized (letterboxed) to imageSize × imageSize pixels. */
  imageSize: number;
  /** One of ARCHITECTURES for the project's type. */
  architecture: string;
  /** Fraction of the training images held out for validation when no image is assigned the validation split. */
  validationSplit: number;
  augmentation: AugmentationConfig;
  /** Seeds shuffling, splitting, augmentation and weight initialisation: same seed, same run. */
  seed: number;
  earlyStopping: EarlyStoppingConfig | null;
  /**
   * The iteration (of this project, e.g. an imported model) whose model another builds on: required by 'transfer';
   * for 'backbone-classifier' and 'backbone-detector' it replaces `backbone`.
   */
  baseIterationId: string | null;
  /** The pretrained backbone of 'backbone-classifier' and 'backbone-detector' (and of 'auto' when it picks one); null: the default backbone. */
  backbone: string | null;
  /** 'backbone-classifier': the backbone's last blocks trained too, at a tenth of the learning rate; 0 (default) keeps it frozen. */
  fineTune: number;
};

/** Settings added after the first configurations were recorded: events recorded before them lack them. */
type SettingsAddedLater = 'baseIterationId' | 'backbone' | 'fineTune';
/** A TrainingConfig as an event recorded it, perhaps before some settings existed (canonicalTrainingConfig fills them). */
export type RecordedTrainingConfig = Omit<TrainingConfig, SettingsAddedLater> &
  Partial<Pick<TrainingConfig, SettingsAddedLater>>;

/** A request's settings: each one optional. Nested objects may be partial; `earlyStopping: null` turns it off. */
export type TrainingConfigInput = {
  learningRate?: number;
  epochs?: number;
  batchSize?: number;
  imageSize?: number;
  architecture?: string;
  validationSplit?: number;
  augmentation?: Partial<AugmentationConfig>;
  seed?: number;
  earlyStopping?: Partial<EarlyStoppingConfig> | null;
  baseIterationId?: string | null;
  backbone?: string | null;
  fineTune?: number;
};

export interface NumberRange {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
}

/** The allowed range of every numeric setting: validation, error messages and Swagger all read this table. */
export const TRAINING_CONFIG_RANGES = {
  learningRate: { min: 0.000001, max: 1, integer: false },
  epochs: { min: 1, max: 500, integer: true },
  batchSize: { min: 1, max: 1024, integer: true },
  imageSize: { min: 16, max: 512, integer: true },
  validationSplit: { min: 0, max: 0.9, integer: false },
  seed: { min: 0, max: 2_147_483_647, integer: true },
  fineTune: { min: 0, max: 2, integer: true },
} as const satisfies Record<string, NumberRange>;

export const AUGMENTATION_RANGES = {
  cropScale: { min: 0.5, max: 1, integer: false },
  brightness: { min: 0, max: 1, integer: false },
} as const satisfies Record<string, NumberRange>;

export const EARLY_STOPPING_RANGES = {
  patience: { min: 1, max: 100, integer: true },
} as const satisfies Record<string, NumberRange>;

export const MAX_ARCHITECTURE_ID_LENGTH = 100;
export const MAX_BACKBONE_ID_LENGTH = 100;

/** Image size by project type: detection needs more pixels to find small objects. */
export const DEFAULT_IMAGE_SIZE: Record<ProjectType, number> = { classification: 64, multilabel: 64, detection: 128 };

export const DEFAULT_AUGMENTATION: AugmentationConfig = { horizontalFlip: true, cropScale: 0.85, brightness: 0.15 };

export const DEFAULT_EARLY_STOPPING_PATIENCE = 5;

/** The defaults of a new project of this type. */
export function defaultTrainingConfig(projectType: ProjectType): TrainingConfig {
  return {
    learningRate: 0.001,
    // A 'backbone-detector' epoch is 12 to 20 steps (libs/ml's min/maxStepsPerEpoch): 10 stay bounded on many photos.
    epochs: 10,
    batchSize: 32,
    imageSize: DEFAULT_IMAGE_SIZE[projectType],
    architecture: DEFAULT_ARCHITECTURE[projectType],
    validationSplit: 0.2,
    augmentation: { ...DEFAULT_AUGMENTATION },
    seed: 42,
    earlyStopping: null,
    baseIterationId: null,
    backbone: null,
    fineTune: 0,
  };
}

/** "epochs must be an integer from 1 to 500": the message for a value outside (or not) a number in a range. */
export function rangeMessage(field: string, range: NumberRange): string {
  return `${field} must be ${range.integer ? 'an integer' : 'a number'} from ${range.min} to ${range.max}`;
}

/**
 * PUT semantics: the project type's defaults with `input` on top (unspecified settings are defaults).
 * Throws 400 VALIDATION_FAILED naming each bad field and its range, or 400 UNKNOWN_ARCHITECTURE.
 */
export function resolveTrainingConfig(projectType: ProjectType, input: unknown, fieldPrefix = ''): TrainingConfig {
  return mergeTrainingConfig(projectType, defaultTrainingConfig(projectType), input, fieldPrefix);
}

/**
 * Per-iteration overrides on top of a project's configuration (training calls this for
 * `POST …/iterations {trainingConfig?}`): `overrides` may be undefined, null or a partial TrainingConfigInput
 * straight from a request. Validates types, ranges and the architecture for the project type; field names in
 * error details carry `fieldPrefix` (e.g. `trainingConfig.epochs`).
 */
export function mergeTrainingConfig(
  projectType: ProjectType,
  base: TrainingConfig,
  overrides: unknown,
  fieldPrefix = '',
): TrainingConfig {
  const input = parseTrainingConfigInput(overrides ?? {}, fieldPrefix);
  const merged = applyTrainingConfigInput(base, input);
  assertArchitectureFor(projectType, merged.architecture, join(fieldPrefix, 'architecture'));
  assertBaseModelFor(merged, join(fieldPrefix, 'baseIterationId'));
  assertBackboneFor(merged, join(fieldPrefix, 'backbone'));
  return merged;
}

/** Settings of `input` replace those of `base`; nested objects merge setting by setting. */
export function applyTrainingConfigInput(base: TrainingConfig, input: TrainingConfigInput): TrainingConfig {
  const earlyStopping =
    input.earlyStopping === undefined
      ? base.earlyStopping
      : input.earlyStopping === null
        ? null
        : {
            enabled: input.earlyStopping.enabled ?? base.earlyStopping?.enabled ?? true,
            patience: input.earlyStopping.patience ?? base.earlyStopping?.patience ?? DEFAULT_EARLY_STOPPING_PATIENCE,
          };
  return canonicalTrainingConfig({
    learningRate: input.learningRate ?? base.learningRate,
    epochs: input.epochs ?? base.epochs,
    batchSize: input.batchSize ?? base.batchSize,
    imageSize: input.imageSize ?? base.imageSize,
    architecture: input.architecture ?? base.architecture,
    validationSplit: input.validationSplit ?? base.validationSplit,
    augmentation: {
      horizontalFlip: input.augmentation?.horizontalFlip ?? base.augmentation.horizontalFlip,
      cropScale: input.augmentation?.cropScale ?? base.augmentation.cropScale,
      brightness: input.augmentation?.brightness ?? base.augmentation.brightness,
    },
    seed: input.seed ?? base.seed,
    earlyStopping,
    baseIterationId: input.baseIterationId === undefined ? base.baseIterationId : input.baseIterationId,
    backbone: input.backbone === undefined ? base.backbone : input.backbone,
    fineTune: input.fineTune ?? base.fineTune,
  });
}

/** The same configuration with its keys in one fixed order, so equal configurations serialize equally. */
export function canonicalTrainingConfig(config: RecordedTrainingConfig): TrainingConfig {
  return {
    learningRate: config.learningRate,
    epochs: config.epochs,
    batchSize: config.batchSize,
    imageSize: config.imageSize,
    architecture: config.architecture,
    validationSplit: config.validationSplit,
    augmentation: {
      horizontalFlip: config.augmentation.horizontalFlip,
      cropScale: config.augmentation.cropScale,
      brightness: config.augmentation.brightness,
    },
    seed: config.seed,
    earlyStopping: config.earlyStopping
      ? { enabled: config.earlyStopping.enabled, patience: config.earlyStopping.patience }
      : null,
    // Configurations recorded before the setting existed have none.
    baseIterationId: config.baseIterationId ?? null,
    backbone: config.backbone ?? null,
    fineTune: config.fineTune ?? 0,
  };
}

export function sameTrainingConfig(a: TrainingConfig, b: TrainingConfig): boolean {
  return JSON.stringify(canonicalTrainingConfig(a)) === JSON.stringify(canonicalTrainingConfig(b));
}

/** The settings each level of a training configuration takes, named when an unknown one is sent. */
const TRAINING_CONFIG_FIELDS = [
  ...Object.keys(TRAINING_CONFIG_RANGES),
  'architecture',
  'augmentation',
  'baseIterationId',
  'backbone',
  'earlyStopping',
].sort();
const AUGMENTATION_FIELDS = ['horizontalFlip', ...Object.keys(AUGMENTATION_RANGES)].sort();
const EARLY_STOPPING_FIELDS = ['enabled', ...Object.keys(EARLY_STOPPING_RANGES)].sort();

/**
 * Checks an untrusted value (a request body, an override) against TrainingConfigInput: types, ranges, unknown
 * settings. Collects every problem, then throws one 400 VALIDATION_FAILED whose details name each field.
 */
export function parseTrainingConfigInput(value: unknown, fieldPrefix = ''): TrainingConfigInput {
  const errors: FieldError[] = [];
  const report = (field: string, error: string) => errors.push({ field, errors: [error] });
  const result: TrainingConfigInput = {};
  const root = objectOrReport(value, fieldPrefix || 'trainingConfig', report);
  if (root) {
    for (const [key, entry] of definedEntries(root)) {
      const field = join(fieldPrefix, key);
      if (key in TRAINING_CONFIG_RANGES) {
        const parsed = numberInRange(
          entry,
          field,
          TRAINING_CONFIG_RANGES[key as keyof typeof TRAINING_CONFIG_RANGES],
          report,
        );
        if (parsed !== undefined) result[key as keyof typeof TRAINING_CONFIG_RANGES] = parsed;
      } else if (key === 'architecture') {
        if (typeof entry === 'string' && entry.length >= 1 && entry.length <= MAX_ARCHITECTURE_ID_LENGTH) {
          result.architecture = entry;
        } else {
          report(
            field,
            `${field} must be an architecture id (a string of 1 to ${MAX_ARCHITECTURE_ID_LENGTH} characters)`,
          );
        }
      } else if (key === 'augmentation') {
        const augmentation = objectOrReport(entry, field, report);
        if (augmentation) result.augmentation = parseAugmentation(augmentation, field, report);
      } else if (key === 'baseIterationId') {
        if (entry === null || (typeof entry === 'string' && isUuid(entry))) result.baseIterationId = entry;
        else report(field, `${field} must be the id (a UUID) of an iteration with a model, or null`);
      } else if (key === 'backbone') {
        if (
          entry === null ||
          (typeof entry === 'string' && entry.length >= 1 && entry.length <= MAX_BACKBONE_ID_LENGTH)
        )
          result.backbone = entry;
        else report(field, `${field} must be a backbone id (GET /v1/backbones lists them) or null for the default`);
      } else if (key === 'earlyStopping') {
        if (entry === null) {
          result.earlyStopping = null;
        } else {
          const earlyStopping = objectOrReport(entry, field, report, ' or null');
          if (earlyStopping) result.earlyStopping = parseEarlyStopping(earlyStopping, field, report);
        }
      } else {
        report(field, unknownFieldMessage(field, TRAINING_CONFIG_FIELDS));
      }
    }
  }
  if (errors.length > 0) {
    throw DomainError.validation('VALIDATION_FAILED', validationMessage(errors, errors.length), errors);
  }
  return result;
}

type Report = (field: string, error: string) => void;

function parseAugmentation(
  value: Record<string, unknown>,
  parent: string,
  report: Report,
): Partial<AugmentationConfig> {
  const result: Partial<AugmentationConfig> = {};
  for (const [key, entry] of definedEntries(value)) {
    const field = join(parent, key);
    if (key === 'horizontalFlip') {
      if (typeof entry === 'boolean') result.horizontalFlip = entry;
      else report(field, `${field} must be a boolean`);
    } else if (key in AUGMENTATION_RANGES) {
      const parsed = numberInRange(entry, field, AUGMENTATION_RANGES[key as keyof typeof AUGMENTATION_RANGES], report);
      if (parsed !== undefined) result[key as keyof typeof AUGMENTATION_RANGES] = parsed;
    } else {
      report(field, unknownFieldMessage(field, AUGMENTATION_FIELDS));
    }
  }
  return result;
}

function parseEarlyStopping(
  value: Record<string, unknown>,
  parent: string,
  report: Report,
): Partial<EarlyStoppingConfig> {
  const result: Partial<EarlyStoppingConfig> = {};
  for (const [key, entry] of definedEntries(value)) {
    const field = join(parent, key);
    if (key === 'enabled') {
      if (typeof entry === 'boolean') result.enabled = entry;
      else report(field, `${field} must be a boolean`);
    } else if (key === 'patience') {
      const parsed = numberInRange(entry, field, EARLY_STOPPING_RANGES.patience, report);
      if (parsed !== undefined) result.patience = parsed;
    } else {
      report(field, unknownFieldMessage(field, EARLY_STOPPING_FIELDS));
    }
  }
  return result;
}

function numberInRange(value: unknown, field: string, range: NumberRange, report: Report): number | undefined {
  const valid =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!range.integer || Number.isInteger(value)) &&
    value >= range.min &&
    value <= range.max;
  if (valid) return value;
  report(field, rangeMessage(field, range));
  return undefined;
}

function objectOrReport(
  value: unknown,
  field: string,
  report: Report,
  alternative = '',
): Record<string, unknown> | undefined {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  report(field, `${field} must be an object${alternative}`);
  return undefined;
}

/** Own entries whose value is not undefined (DTO instances define every declared field). */
function definedEntries(value: Record<string, unknown>): [string, unknown][] {
  return Object.entries(value).filter(([, entry]) => entry !== undefined);
}

function join(prefix: string, key: string): string {
  return prefix ? `${prefix}.${key}` : key;
}
