import { type CommandMetadata, type Decider, DomainError } from '@diyml/core/pure';
import type { FrameCounts, VideoEvent, VideoSpec, VideoStatus } from './video.events.js';

export type VideoCommand = { metadata: CommandMetadata } & (
  | {
      type: 'UploadVideo';
      projectId: string;
      projectType: 'classification' | 'multilabel' | 'detection';
      videoId: string;
      spec: VideoSpec;
    }
  | { type: 'RecordFrameProgress'; counts: FrameCounts }
  | { type: 'CompleteFrameExtraction'; counts: FrameCounts }
  | { type: 'FailFrameExtraction'; code: string; reason: string }
);

export interface VideoState {
  status: VideoStatus | null;
  projectId: string;
  videoId: string;
  framesDone: number;
}

/** A video's frame extraction: uploaded, then progress, then extracted or failed; a finished one stays as it is. */
export const videoDecider: Decider<VideoState, VideoCommand, VideoEvent> = {
  initialState: { status: null, projectId: '', videoId: '', framesDone: 0 },

  decide(command, state) {
    const at = command.metadata.now.toISOString();
    if (command.type === 'UploadVideo') {
      if (state.status !== null)
        throw DomainError.conflict('VIDEO_ALREADY_EXISTS', `Video ${command.videoId} already exists.`);
      const { projectId, projectType, videoId, spec } = command;
      return [{ type: 'VideoUploaded', v: 1, data: { projectId, videoId, projectType, ...spec, uploadedAt: at } }];
    }
    if (state.status === null) throw DomainError.notFound('VIDEO_NOT_FOUND', 'The video does not exist.');
    const ids = { projectId: state.projectId, videoId: state.videoId };
    if (state.status !== 'extracting') return [];
    switch (command.type) {
      case 'RecordFrameProgress':
        if (command.counts.framesDone <= state.framesDone) return [];
        return [{ type: 'VideoFramesProgressed', v: 1, data: { ...ids, ...command.counts } }];
      case 'CompleteFrameExtraction':
        return [{ type: 'VideoFramesExtracted', v: 1, data: { ...ids, ...command.counts, completedAt: at } }];
      case 'FailFrameExtraction':
        return [
          {
            type: 'VideoFrameExtractionFailed',
            v: 1,
            data: { ...ids, code: command.code, reason: command.reason, failedAt: at },
          },
        ];
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'VideoUploaded':
        return { status: 'extracting', projectId: event.data.projectId, videoId: event.data.videoId, framesDone: 0 };
      case 'VideoFramesProgressed':
        return { ...state, framesDone: event.data.framesDone };
      case 'VideoFramesExtracted':
        return { ...state, status: 'completed', framesDone: event.data.framesDone };
      case 'VideoFrameExtractionFailed':
        return { ...state, status: 'failed' };
    }
  },
};
