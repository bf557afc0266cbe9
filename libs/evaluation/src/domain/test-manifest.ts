/** One test image: its bytes by sha256 and what the model should find. */
export interface TestImage {
  /** The uploaded file name (upload) or the image's file name (split). */
  filename: string;
  /** The project image, for a split test run; null for uploaded files. */
  imageId: string | null;
  sha256: string;
  /** Classification: index of the expected label in the model's labels. */
  expected: number | null;
  /** Multilabel: indexes of the expected labels in the model's labels (none: the image carries none). */
  expectedLabels?: number[];
  /** Detection: expected boxes, label = index in the model's labels, coordinates fractions of the image. */
  regions: { label: number; x: number; y: number; width: number; height: number }[];
}

/** The labeled images a test run uses, frozen as a blob when it is requested. */
export interface TestManifest {
  v: 1;
  projectId: string;
  iterationId: string;
  task: 'classification' | 'multilabel' | 'detection';
  labels: string[];
  images: TestImage[];
}

export function serializeTestManifest(manifest: TestManifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(manifest));
}

export function parseTestManifest(bytes: Uint8Array): TestManifest {
  const manifest = JSON.parse(new TextDecoder().decode(bytes)) as TestManifest;
  if (manifest.v !== 1) throw new Error(`unsupported test manifest version ${String(manifest.v)}`);
  return manifest;
}

/** What the model predicted for one test image, as the API shows it. */
export interface TestPrediction {
  filename: string;
  imageId: string | null;
  /** Classification: the expected label name; multilabel: the expected label names; detection: the expected boxes. */
  expected: string | string[] | { label: string; x: number; y: number; width: number; height: number }[];
  /**
   * Classification: the most probable label; multilabel: the labels of probability ≥ 0.5; detection: the boxes found
   * (score ≥ 0.5 shown).
   */
  predicted:
    string | string[] | { label: string; probability: number; x: number; y: number; width: number; height: number }[];
  /**
   * Classification: the probability of `predicted`; multilabel: the highest label probability; detection: the
   * highest box score, listed or not (0 without boxes).
   */
  confidence: number;
  correct?: boolean;
}
