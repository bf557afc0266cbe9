import type { Decider } from '@diyml/core/pure';
import type { ImageContentEvent } from './image.events.js';

/**
 * `holderActive`: whether the image holding the content still does (it exists, or its upload is still in
 * flight): the handler reads it from the holder's stream, the decider does no I/O.
 */
export type ClaimImageContent = {
  type: 'ClaimImageContent';
  projectId: string;
  sha256: string;
  imageId: string;
  holderActive: boolean;
  /** The lease name of the process claiming, null when it holds none (a process without leases). */
  processId: string | null;
};
export type ReleaseImageContent = { type: 'ReleaseImageContent'; projectId: string; sha256: string; imageId: string };
export type ImageContentCommand = ClaimImageContent | ReleaseImageContent;

export interface ImageContentState {
  /** The image the bytes belong to in the project, null when free. */
  holder: string | null;
}

/**
 * Exact duplicate detection: the same bytes are one image per project. The first image to claim them holds
 * them; claiming held bytes changes nothing (the upload is a duplicate of the holder); a holder that was
 * removed or whose upload was abandoned is taken over.
 */
export const imageContentClaimDecider: Decider<ImageContentState, ImageContentCommand, ImageContentEvent> = {
  initialState: { holder: null },

  decide(command, state) {
    const { projectId, sha256, imageId } = command;
    if (command.type === 'ReleaseImageContent') {
      return state.holder === imageId
        ? [{ type: 'ImageContentReleased', v: 1, data: { projectId, sha256, imageId } }]
        : [];
    }
    if (state.holder === imageId || (state.holder !== null && command.holderActive)) return [];
    return [{ type: 'ImageContentClaimed', v: 2, data: { projectId, sha256, imageId, processId: command.processId } }];
  },

  evolve(state, event) {
    if (event.type === 'ImageContentClaimed') return { holder: event.data.imageId };
    return state.holder === event.data.imageId ? { holder: null } : state;
  },
};

/** The image holding the content after a claim decided on `before`: the claimant, or the image already holding it. */
export function contentHolder(
  before: ImageContentState,
  decided: readonly ImageContentEvent[],
  claimant: string,
): string {
  return decided.length > 0 ? claimant : (before.holder ?? claimant);
}
