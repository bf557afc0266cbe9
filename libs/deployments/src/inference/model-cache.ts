import { type BeforeApplicationShutdown, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import sharp from 'sharp';
import { BlobStore } from '@diyml/blobs';
import { LoadedModel, type SerializedModel } from '@diyml/ml';
import { archiveLimitsOf, Settings } from '@diyml/core';
import { unpackModelSafely } from '@diyml/training/pure';
import { DeploymentSettings } from '../deployment-settings.js';
import { PredictionBatcher } from './prediction-batcher.js';

/** A loaded model and the batcher that runs its predictions. */
export interface ServingModel {
  readonly model: LoadedModel;
  readonly batcher: PredictionBatcher;
}

interface Entry {
  sha256: string;
  loading: Promise<ServingModel>;
  serving?: ServingModel;
  bytes: number;
  /** Predictions running on it: an evicted model is disposed once the last one ends. */
  leases: number;
  evicted: boolean;
}

function weightBytes(serialized: SerializedModel): number {
  const weights = serialized.weights;
  if (weights instanceof Uint8Array) return weights.byteLength;
  return Object.values(weights).reduce((total, file) => total + file.byteLength, 0);
}

/** A small grey JPEG: a prediction on it sets up what a model's first prediction would (JPEG decoding, runtime memory). */
let warmUpImage: Promise<Buffer> | undefined;
function warmUpJpeg(): Promise<Buffer> {
  warmUpImage ??= sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .jpeg()
    .toBuffer();
  return warmUpImage;
}

/**
 * Loaded models by the sha256 of their blob, least recently used first out, bounded by count and weight
 * bytes. Concurrent first requests for a model share one load. A model still predicting when it is evicted
 * is disposed when that prediction ends.
 */
@Injectable()
export class ModelCache implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(ModelCache.name);
  /** Map order is recency order: the first entry is the least recently used. */
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly blobs: BlobStore,
    private readonly settings: DeploymentSettings,
    private readonly platform: Settings,
  ) {}

  /** Runs `use` with the model, loading it first if needed. */
  async use<T>(sha256: string, use: (serving: ServingModel) => Promise<T>): Promise<T> {
    let entry = this.entries.get(sha256);
    if (entry) {
      this.entries.delete(sha256);
      this.entries.set(sha256, entry);
    } else {
      entry = this.load(sha256);
    }
    entry.leases += 1;
    try {
      return await use(await entry.loading);
    } finally {
      entry.leases -= 1;
      if (entry.evicted && entry.leases === 0) entry.serving?.model.dispose();
    }
  }

  /**
   * Loads the model ahead of its first prediction (unless it is loaded), then predicts once on a small blank image:
   * a backbone detector's first call otherwise waits 2–5 s for the archive to be unzipped, the model converted and
   * its onnxruntime session made, and its first run and first JPEG decode are slower than the next ones.
   */
  async warm(sha256: string): Promise<void> {
    if (this.entries.has(sha256)) return;
    await this.use(sha256, async ({ model }) => model.predict(await warmUpJpeg()));
  }

  /** Unloads the model (now, or when its running predictions end). */
  evict(sha256: string): void {
    const entry = this.entries.get(sha256);
    if (!entry) return;
    this.entries.delete(sha256);
    this.retire(entry);
  }

  has(sha256: string): boolean {
    return this.entries.has(sha256);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Lets loads in progress (a model warmed ahead of its first call) end before the blob store closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.entries.values()].map((entry) => entry.loading));
  }

  onApplicationShutdown(): void {
    for (const sha256 of [...this.entries.keys()]) this.evict(sha256);
  }

  private load(sha256: string): Entry {
    const entry: Entry = { sha256, bytes: 0, leases: 0, evicted: false, loading: Promise.resolve(undefined as never) };
    entry.loading = (async () => {
      // Unzipped on a worker thread, within the archive limits its import was held to.
      const serialized = await unpackModelSafely(
        new Uint8Array(await this.blobs.get(sha256)),
        archiveLimitsOf(this.platform),
      );
      const model = await LoadedModel.load(serialized);
      entry.serving = { model, batcher: new PredictionBatcher(model) };
      entry.bytes = weightBytes(serialized);
      if (entry.evicted && entry.leases === 0) model.dispose();
      this.logger.debug(`Loaded model ${sha256.slice(0, 12)} (${entry.bytes} weight bytes)`);
      this.enforceBounds();
      return entry.serving;
    })();
    // A failed load is forgotten, so the next request tries again.
    entry.loading.catch(() => {
      if (this.entries.get(sha256) === entry) this.entries.delete(sha256);
    });
    this.entries.set(sha256, entry);
    return entry;
  }

  private enforceBounds(): void {
    const { MODEL_CACHE_MAX_MODELS: maxModels, MODEL_CACHE_MAX_BYTES: maxBytes } = this.settings;
    let bytes = [...this.entries.values()].reduce((total, entry) => total + entry.bytes, 0);
    for (const [sha256, entry] of this.entries) {
      if (this.entries.size <= maxModels && bytes <= maxBytes) break;
      // Keep at least the most recently used model, however large.
      if (this.entries.size === 1) break;
      this.entries.delete(sha256);
      bytes -= entry.bytes;
      this.retire(entry);
    }
  }

  private retire(entry: Entry): void {
    entry.evicted = true;
    if (entry.leases === 0) entry.serving?.model.dispose();
  }
}
