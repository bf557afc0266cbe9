import type { RecordedTrainingConfig } from '@diyml/projects/pure';
import type {
  EpochStats,
  ImportedModelSpec,
  IterationStatus,
  Task,
  ValidationMetrics,
} from '../../domain/iteration.events.js';

export const ITERATIONS = 'iterations';

export type EpochHistoryEntry = Omit<EpochStats, 'epochs'>;

/** Read-model document of an iteration, in the `iterations` collection. */
export interface IterationView {
  id: string;
  projectId: string;
  /** Who queued the training (its event's user); null for an imported model. Not shown: it counts active trainings. */
  queuedBy: string | null;
  number: number;
  /** `Iteration <number>` until renamed. */
  name: string;
  status: IterationStatus;
  task: Task;
  labels: { id: string; name: string }[];
  progress: { epoch: number; epochs: number };
  /** null for an imported model (documents projected before this was typed hold {} there). */
  trainingConfig: RecordedTrainingConfig | null;
  architecture: string;
  /** null for an imported model: it was not trained here. */
  seed: number | null;
  manifestSha256: string;
  /** null for an imported model: it was not trained here. */
  imageCount: number | null;
  reproducedFrom: string | null;
  /** sha256 of the model a transfer iteration builds on. */
  baseModelSha256: string | null;
  /** How its validation photos were drawn (IterationSpec.detectionSplitByLabel); absent when at random. */
  detectionSplitByLabel?: boolean;
  /** Likewise for multilabel (IterationSpec.multilabelSplitByLabel). */
  multilabelSplitByLabel?: boolean;
  /** Uploaded as a model archive (ModelImported) rather than trained here. */
  imported: boolean;
  /** An imported model: the kind of file it came as; null for one trained here. */
  importFormat: ImportedModelSpec['format'] | null;
  /** For a reproduction, once completed: whether its metrics and model equal the original's. */
  reproduction: { sameMetrics: boolean; sameModel: boolean } | null;
  attempt: number;
  backend: string | null;
  history: EpochHistoryEntry[];
  metrics: ValidationMetrics | null;
  model: { sha256: string; bytes: number } | null;
  evaluationSha256: string | null;
  /** Backbone architectures: the table of the embeddings the run used (blob), how many it computed and reused. */
  embeddings: { sha256: string; computed: number; reused: number } | null;
  bestEpoch: number | null;
  stoppedEarly: boolean;
  trainCount: number | null;
  validationCount: number | null;
  error: { code: string; reason: string } | null;
  queuedAt: string;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  revision: number;
}
