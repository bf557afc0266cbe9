import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { UrlFetcher } from '@diyml/core';
import { ProjectAccess } from '@diyml/projects';
import type { Split } from '../../domain/image.events.js';
import { ImageIntake, type IntakeItem } from '../../upload/image-intake.js';
import type { ReceivedFile } from '../../upload/multipart.interceptor.js';
import type { UserContext } from '../image-writer.js';
import { UploadImages } from '../upload-images/upload-images.handler.js';

export const MAX_URLS_PER_REQUEST = 64;

export interface UrlIntakeItem extends IntakeItem {
  url: string;
}

export class UploadImagesFromUrls extends Command<UrlIntakeItem[]> {
  constructor(
    readonly projectId: string,
    readonly urls: readonly string[],
    /** Names or ids of the labels every image gets: several on a multilabel project, at most one otherwise. */
    readonly labels: readonly string[],
    readonly split: Split | undefined,
    readonly context: UserContext,
  ) {
    super();
  }
}

/** The file name an image fetched from a URL gets: the last segment of its path, else its host. */
export function filenameOf(url: string): string {
  try {
    const parsed = new URL(url);
    const last = decodeURIComponent(parsed.pathname.split('/').pop() ?? '');
    return (last || parsed.hostname).slice(0, 200);
  } catch {
    return 'image';
  }
}

/**
 * Fetches each URL (UrlFetcher: limits and SSRF checks), then adds what was fetched like an upload
 * (UploadImages). A URL that cannot be fetched is rejected with the fetch's error; the others go on.
 */
@CommandHandler(UploadImagesFromUrls)
export class UploadImagesFromUrlsHandler implements ICommandHandler<UploadImagesFromUrls> {
  constructor(
    private readonly access: ProjectAccess,
    private readonly fetcher: UrlFetcher,
    private readonly commands: CommandBus,
    private readonly intake: ImageIntake,
  ) {}

  async execute({ projectId, urls, labels, split, context }: UploadImagesFromUrls): Promise<UrlIntakeItem[]> {
    // Another user's project is 404, and a request past the image quota 422, before anything is fetched.
    const project = await this.access.getOwned(projectId, context.userId);
    // Reserved before fetching, for the fetches and the upload: concurrent requests cannot pass the quota together.
    return this.intake.withRoom({ projectId, ownerId: project.ownerId }, urls.length, async () => {
      const results: (UrlIntakeItem | ReceivedFile)[] = (await this.fetcher.fetchEach(urls)).map((outcome, index) =>
        'image' in outcome
          ? { filename: filenameOf(outcome.image.url), size: outcome.image.bytes.length, buffer: outcome.image.bytes }
          : {
              url: urls[index],
              filename: filenameOf(urls[index]),
              status: 'rejected',
              error: { code: outcome.error.code, message: outcome.error.message },
            },
      );
      const fetchedIndexes = results.flatMap((result, index) => ('buffer' in result ? [index] : []));
      const files = fetchedIndexes.map((index) => results[index] as ReceivedFile);
      const intake: IntakeItem[] = files.length
        ? await this.commands.execute(new UploadImages(projectId, files, labels, split, context))
        : [];
      fetchedIndexes.forEach((index, position) => (results[index] = { url: urls[index], ...intake[position] }));
      return results as UrlIntakeItem[];
    });
  }
}
