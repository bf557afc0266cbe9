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

const SPLITS = ['train', 'validation', 'test'] as const;

/**
 * The grid's filter as the URL keeps it (`?label=<id>`, `?show=unlabeled|excluded`, `?split=`, `?metadata=key=value`),
 * so that a reload, a shared link or Back from an image opens the grid filtered as it was.
 */
export function filterFrom(search: URLSearchParams): ImageFilter {
  const filter: ImageFilter = {};
  const show = search.get('show');
  const label = search.get('label');
  if (show === 'unlabeled') filter.unlabeled = true;
  else if (show === 'excluded') filter.included = false;
  else if (label) filter.label = label;
  const split = search.get('split');
  if (SPLITS.some((each) => each === split)) filter.split = split as ImageFilter['split'];
  const metadata = search.get('metadata');
  if (metadata) filter.metadata = metadata;
  return filter;
}

/** The URL query (with its `?`, or '' for no filter) that filterFrom reads back as `filter`. */
export function filterQuery(filter: ImageFilter): string {
  const search = new URLSearchParams();
  if (filter.unlabeled) search.set('show', 'unlabeled');
  else if (filter.included === false) search.set('show', 'excluded');
  else if (filter.label) search.set('label', filter.label);
  if (filter.split) search.set('split', filter.split);
  if (filter.metadata) search.set('metadata', filter.metadata);
  const query = search.toString();
  return query ? `?${query}` : '';
}

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
