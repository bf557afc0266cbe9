import { useInfiniteQuery, useQueryClient } from '@tanstack/react-query';
import { api, type Image, unwrap } from './client';

export interface ImageFilter {
  label?: string;
  unlabeled?: boolean;
  split?: 'train' | 'validation' | 'test';
  included?: boolean;
  /** One metadata entry as key=value. */
  metadata?: string;
  /** A log position or time: the dataset as it was then. */
  asOf?: string;
}

const PAGE_SIZE = 200;

/** Every image matching the filter, page after page as the grid asks for more. */
export function useImages(projectId: string, filter: ImageFilter) {
  return useInfiniteQuery({
    queryKey: ['images', projectId, filter],
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam }) =>
      unwrap(
        await api.GET('/v1/projects/{projectId}/images', {
          params: { path: { projectId }, query: { ...filter, limit: PAGE_SIZE, cursor: pageParam } },
        }),
      ),
    getNextPageParam: (page) => page.nextCursor ?? undefined,
  });
}

/** After a write: the grids and counts of this project read again (each label's image count, the project's). */
export function useRefreshImages(projectId: string) {
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: ['images', projectId] }),
      queryClient.invalidateQueries({ queryKey: ['image', projectId] }),
      queryClient.invalidateQueries({ queryKey: ['labels', projectId] }),
      queryClient.invalidateQueries({ queryKey: ['project', projectId] }),
    ]);
}

export async function labelImages(projectId: string, imageIds: string[], label: string | null) {
  const result = unwrap(
    await api.POST('/v1/projects/{projectId}/images/labels', {
      params: { path: { projectId } },
      body: { items: imageIds.map((imageId) => ({ imageId, label })) },
    }),
  );
  const failed = result.items.filter((item) => item.error);
  if (failed.length) throw new Error(failed.map((item) => item.error?.message).join('; '));
}

/** Items per labeling request: the API takes at most 1,000. */
const LABELS_PER_REQUEST = 1000;

/** Gives each image its whole set of labels (ids); [] untags it. */
export async function setImageLabels(projectId: string, items: { imageId: string; labels: string[] }[]) {
  for (let start = 0; start < items.length; start += LABELS_PER_REQUEST) {
    const result = unwrap(
      await api.POST('/v1/projects/{projectId}/images/labels', {
        params: { path: { projectId } },
        body: { items: items.slice(start, start + LABELS_PER_REQUEST) },
      }),
    );
    const failed = result.items.filter((item) => item.error);
    if (failed.length) throw new Error(failed.map((item) => item.error?.message).join('; '));
  }
}

export async function updateImages(
  projectId: string,
  images: Image[],
  change: { split?: Image['split']; included?: boolean },
) {
  for (const image of images) {
    unwrap(
      await api.PATCH('/v1/projects/{projectId}/images/{imageId}', {
        params: { path: { projectId, imageId: image.id } },
        body: change,
      }),
    );
  }
}
