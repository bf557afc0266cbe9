import { Injectable, type OnModuleInit } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DomainError, Settings } from '@diyml/core';
import {
  BackboneError,
  DEFAULT_BACKBONE_ID,
  ensureBackboneWeights,
  getBackbone,
  listBackbones,
  registerBackbone,
  type BackboneDescriptor,
} from '@diyml/ml';

/**
 * The backbones this installation offers: libs/ml's built-in ones plus those listed in BACKBONES_FILE.
 * Checks that a backbone can be used before anything is recorded, so a missing or bad backbone is a 4xx at
 * configuration or queue time rather than a failed iteration later.
 */
@Injectable()
export class BackboneCatalog implements OnModuleInit {
  constructor(private readonly settings: Settings) {}

  onModuleInit(): void {
    if (!this.settings.BACKBONES_FILE) return;
    let entries: unknown;
    try {
      entries = JSON.parse(readFileSync(this.settings.BACKBONES_FILE, 'utf8'));
    } catch (error) {
      throw new Error(
        `BACKBONES_FILE=${this.settings.BACKBONES_FILE} is not a readable JSON file: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (!Array.isArray(entries))
      throw new Error(`BACKBONES_FILE=${this.settings.BACKBONES_FILE} must hold a JSON array of backbones`);
    for (const entry of entries as BackboneDescriptor[]) {
      if (entry?.source?.kind !== 'url' && entry?.source?.kind !== 'npm-package') {
        throw new Error(`BACKBONES_FILE: backbone '${entry?.id}' needs a source of kind 'url' or 'npm-package'`);
      }
      registerBackbone(entry);
    }
  }

  /** Where URL backbones are kept once downloaded. */
  get cacheDirectory(): string {
    return join(this.settings.DATA_DIR, 'backbones');
  }

  list(): BackboneDescriptor[] {
    return listBackbones();
  }

  /** The registry entry of `id` (null: the default); 400 UNKNOWN_BACKBONE when there is none. */
  describe(id: string | null): BackboneDescriptor {
    try {
      return getBackbone(id ?? DEFAULT_BACKBONE_ID);
    } catch (error) {
      throw toDomainError(error, 'backbone');
    }
  }

  /**
   * Makes sure the backbone's weights are at hand (downloading and verifying a URL backbone once):
   * 422 BACKBONE_WEIGHTS_MISSING, BACKBONE_CHECKSUM_MISMATCH or BACKBONE_DOWNLOAD_FAILED otherwise.
   */
  async assertAvailable(id: string | null, field = 'backbone'): Promise<BackboneDescriptor> {
    const descriptor = this.describe(id);
    try {
      await ensureBackboneWeights(descriptor, { cacheDirectory: this.cacheDirectory });
    } catch (error) {
      throw toDomainError(error, field);
    }
    return descriptor;
  }
}

function toDomainError(error: unknown, field: string): unknown {
  if (!(error instanceof BackboneError)) return error;
  const details = [{ field, errors: [error.message], backbone: error.backbone }];
  if (error.code === 'UNKNOWN_BACKBONE')
    return DomainError.validation(error.code, error.message, [
      { ...details[0], known: listBackbones().map((backbone) => backbone.id) },
    ]);
  return DomainError.unprocessable(error.code, error.message, details);
}
