import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import {
  type Backbone,
  decodeResized,
  type FeatureRunner,
  loadBackbone,
  MOBILENET_V2_NSFWJS,
  selectBackend,
} from '@diyml/ml';
import { saliencyProposals } from './saliency-proposals.js';

/**
 * MobileNetV2's stride-8 layer (28 × 28 cells at 224 px): on the 40 fork photos of Custom Vision's detection sample it
 * puts a box within IoU 0.5 of the published one on 39; the stride-16 and -32 layers did so on 25 to 30, and the
 * same procedure on random saliency on 0 to 6.
 */
const FEATURE_LAYER = 'block_6_expand_relu';
const MAX_PROPOSALS = 50;

export interface BackboneProposal {
  /** The region's mean saliency, from 0 to 1. */
  confidence: number;
  box: { x: number; y: number; width: number; height: number };
}

/**
 * Region proposals for images of a project no detector was trained on yet: boxes around what the pretrained
 * detection backbone's features find salient (saliencyProposals). The backbone is loaded at the first call and
 * kept; its forward pass runs on onnxruntime's threads, off the event loop.
 */
@Injectable()
export class BackboneRegionProposals implements OnModuleDestroy {
  private loading?: Promise<{ backbone: Backbone; runner: FeatureRunner }>;

  async propose(image: Uint8Array): Promise<BackboneProposal[]> {
    const { backbone, runner } = await this.loaded();
    const { inputSize, inputRange, featureLayers } = backbone.descriptor;
    const layer = featureLayers.find((candidate) => candidate.name === FEATURE_LAYER)!;
    const { pixels } = await decodeResized(image, { width: inputSize, height: inputSize }, 3);
    const [low, high] = inputRange;
    const [values] = await runner.run(
      Float32Array.from(pixels, (value) => low + (value / 255) * (high - low)),
      1,
    );
    const boxes = saliencyProposals(
      { values, side: Math.ceil(inputSize / layer.stride), channels: layer.channels },
      MAX_PROPOSALS,
    );
    return boxes.map(({ x, y, width, height, score }) => ({ confidence: score, box: { x, y, width, height } }));
  }

  private loaded(): Promise<{ backbone: Backbone; runner: FeatureRunner }> {
    this.loading ??= (async () => {
      await selectBackend();
      const backbone = await loadBackbone(MOBILENET_V2_NSFWJS.id);
      try {
        return { backbone, runner: await backbone.createRunner([FEATURE_LAYER]) };
      } catch (error) {
        backbone.dispose();
        throw error;
      }
    })();
    // A failed load is tried again at the next call.
    this.loading.catch(() => (this.loading = undefined));
    return this.loading;
  }

  async onModuleDestroy(): Promise<void> {
    const loaded = await this.loading?.catch(() => undefined);
    loaded?.runner.dispose();
    loaded?.backbone.dispose();
  }
}
