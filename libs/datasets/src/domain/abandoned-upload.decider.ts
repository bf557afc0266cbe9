import type { Decider } from '@diyml/core/pure';
import type { ImageEvent, ImageUploadAbandoned } from './image.events.js';

export type AbandonImageUpload = { type: 'AbandonImageUpload'; projectId: string; sha256: string; imageId: string };

export interface UploadState {
  recorded: boolean;
  abandoned: boolean;
}

/**
 * Fences an upload whose content claim is taken over or released: its image stream gets ImageUploadAbandoned unless
 * the image was recorded meanwhile (then the claim still stands). Decided on the image's stream, so of the upload
 * recording the image and another process abandoning it, only the first to append wins.
 */
export const abandonedUploadDecider: Decider<UploadState, AbandonImageUpload, ImageEvent | ImageUploadAbandoned> = {
  initialState: { recorded: false, abandoned: false },

  decide(command, state) {
    if (state.recorded || state.abandoned) return [];
    const { projectId, sha256, imageId } = command;
    return [{ type: 'ImageUploadAbandoned', v: 1, data: { projectId, sha256, imageId } }];
  },

  evolve(state, event) {
    return event.type === 'ImageUploadAbandoned' ? { ...state, abandoned: true } : { ...state, recorded: true };
  },
};
