import { useQuery } from '@tanstack/react-query';
import { type ImgHTMLAttributes, useEffect, useRef, useState } from 'react';
import { fetchDataUrl } from '../api/client';

/** How far outside the viewport a lazy image starts loading, so it is there when scrolled to. */
const LAZY_MARGIN = '300px';

/**
 * An image behind the api's bearer authentication; each URL is fetched once and kept by the query cache (and the
 * browser's HTTP cache: the api marks image bytes immutable). `lazy`: fetched only once it comes near the viewport, as
 * `loading="lazy"` would for a plain URL, which an Authorization header rules out.
 */
export function AuthenticatedImage({
  path,
  alt,
  lazy = false,
  ...rest
}: { path: string; alt: string; lazy?: boolean } & ImgHTMLAttributes<HTMLImageElement>) {
  const placeholder = useRef<HTMLSpanElement>(null);
  const [near, setNear] = useState(!lazy);
  useEffect(() => {
    const element = placeholder.current;
    if (near || !element) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) setNear(true);
      },
      { rootMargin: LAZY_MARGIN },
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, [near]);
  const image = useQuery({
    queryKey: ['bytes', path],
    queryFn: () => fetchDataUrl(path),
    enabled: near,
    staleTime: Infinity,
    gcTime: 10 * 60_000,
  });
  if (!image.data) {
    // A decorative image (alt="") stays out of the accessibility tree while it loads, as its <img> will.
    const role = alt ? { role: 'img', 'aria-label': alt } : { 'aria-hidden': true };
    return <span ref={placeholder} className="image-placeholder" {...role} />;
  }
  return <img src={image.data} alt={alt} {...(lazy ? { loading: 'lazy', decoding: 'async' } : {})} {...rest} />;
}

export const thumbnailPath = (projectId: string, imageId: string, size = 256) =>
  `/v1/projects/${projectId}/images/${imageId}/thumbnail?size=${size}`;
export const contentPath = (projectId: string, imageId: string) =>
  `/v1/projects/${projectId}/images/${imageId}/content`;
