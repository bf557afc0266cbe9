import { useQuery } from '@tanstack/react-query';
import type { ImgHTMLAttributes } from 'react';
import { fetchDataUrl } from '../api/client';

/** An image behind the api's bearer authentication; each URL is fetched once and kept by the query cache. */
export function AuthenticatedImage({
  path,
  alt,
  ...rest
}: { path: string; alt: string } & ImgHTMLAttributes<HTMLImageElement>) {
  const image = useQuery({
    queryKey: ['bytes', path],
    queryFn: () => fetchDataUrl(path),
    staleTime: Infinity,
    gcTime: 10 * 60_000,
  });
  if (!image.data) return <span className="image-placeholder" role="img" aria-label={alt} />;
  return <img src={image.data} alt={alt} {...rest} />;
}

export const thumbnailPath = (projectId: string, imageId: string, size = 256) =>
  `/v1/projects/${projectId}/images/${imageId}/thumbnail?size=${size}`;
export const contentPath = (projectId: string, imageId: string) =>
  `/v1/projects/${projectId}/images/${imageId}/content`;
