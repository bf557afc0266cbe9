import { randomUUID } from 'node:crypto';
import { BlobStore } from '@diyml/blobs';
import {
  imageContentClaimDecider,
  imageContentStream,
  imageDecider,
  imageStream,
  inspectImage,
  type ProjectContext,
} from '@diyml/datasets';
import { CommandPipeline } from '@diyml/event-store';
import type { TestApp } from './test-app.js';

/**
 * Adds images to a project the way an upload records them — blob stored, content claimed, ImageUploaded appended,
 * each through the app's command pipeline and deciders — without HTTP, multipart parsing or the upload's per-file
 * waits: for tests about reading large projects, where uploading thousands of images one request at a time cost
 * most of the file's time. Answers the log position of the last event appended, once the read models applied it.
 */
export async function seedUploadedImages(
  testApp: TestApp,
  options: { project: ProjectContext; userId: string; images: Buffer[]; filenamePrefix: string },
): Promise<number> {
  const { project, userId, images, filenamePrefix } = options;
  const pipeline = testApp.app.get(CommandPipeline);
  const blobs = testApp.app.get(BlobStore);
  const context = { userId, correlationId: randomUUID() };
  const positions = await Promise.all(
    images.map(async (bytes, index) => {
      const inspected = await inspectImage(bytes, { maxFileBytes: bytes.length, maxPixels: 1 << 24 });
      if (!inspected.ok) throw new Error(`seed image ${index} is not an image: ${inspected.rejection.message}`);
      const { format, width, height, dhash } = inspected.image;
      const { sha256 } = await blobs.put(bytes);
      const imageId = randomUUID();
      await pipeline.on(imageContentStream(project.id, sha256), imageContentClaimDecider).run({
        context,
        command: {
          type: 'ClaimImageContent',
          projectId: project.id,
          sha256,
          imageId,
          holderActive: false,
          processId: null,
        },
        waitForReadModels: false,
      });
      const { position } = await pipeline.on(imageStream(imageId), imageDecider).run({
        context,
        command: {
          type: 'UploadImage',
          project,
          imageId,
          filename: `${filenamePrefix}-${index}.${format}`,
          sha256,
          width,
          height,
          format,
          bytes: bytes.length,
          dhash,
          labelId: null,
          split: 'train',
        },
        newStream: true,
        waitForReadModels: false,
      });
      return position;
    }),
  );
  const last = Math.max(...positions);
  await pipeline.waitFor(last);
  return last;
}
