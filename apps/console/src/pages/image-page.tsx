import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { api, fetchDataUrl, type Image, type Project, type Region, unwrap } from '../api/client';
import { filterFrom, filterQuery, labelImages, useImages, useRefreshImages } from '../api/images';
import { contentPath } from '../components/authenticated-image';
import { BoxCorrection } from '../components/box-correction';
import { ErrorMessage } from '../components/error-message';
import { MetadataEditor } from '../components/metadata-editor';
import { Link, navigate, useLeaveWarning, useLocation } from '../router';

/**
 * One image: its label (classification) or its boxes (detection), with previous/next among the images of the grid's
 * filter (carried in the URL), and the way back to that filtered grid.
 */
export function ImagePage({ project, imageId }: { project: Project; imageId: string }) {
  const { search } = useLocation();
  const query = filterQuery(filterFrom(search));
  const filter = useMemo(() => filterFrom(new URLSearchParams(query)), [query]);
  const image = useQuery({
    queryKey: ['image', project.id, imageId],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/projects/{projectId}/images/{imageId}', {
          params: { path: { projectId: project.id, imageId } },
        }),
      ),
  });
  const bytes = useQuery({
    queryKey: ['bytes', contentPath(project.id, imageId)],
    queryFn: () => fetchDataUrl(contentPath(project.id, imageId)),
    staleTime: Infinity,
  });
  const list = useImages(project.id, filter);
  const all = useMemo(() => list.data?.pages.flatMap((page) => page.items) ?? [], [list.data]);
  const position = all.findIndex((item) => item.id === imageId);
  // Where the image was in the list: when a change takes it out of the filter (the filtered label removed), its
  // neighbours are still found around that place, and the image that followed it has taken it.
  const [seen, setSeen] = useState<{ imageId: string; position: number } | null>(null);
  if (position >= 0 && (seen?.imageId !== imageId || seen.position !== position)) setSeen({ imageId, position });
  const left = position < 0 && seen?.imageId === imageId;
  const placed = position >= 0 || left;
  const previous = left ? seen.position - 1 : position - 1;
  const next = left ? seen.position : position + 1;
  // The list comes 200 images a page: read on until this image is found and its next one is known.
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  const readOn = (!placed || next >= all.length) && hasNextPage && !isFetchingNextPage;
  useEffect(() => {
    if (readOn) void fetchNextPage();
  }, [readOn, fetchNextPage]);
  // What the last save did, said on the image it went on to, or on the same one when it was the last: the page
  // changing (or not) is no answer by itself.
  const [saved, setSaved] = useState<string | null>(null);
  const savedAndNext = (done: string) => {
    const last = next >= all.length && !hasNextPage;
    setSaved(last ? `${done} That was the last image: back to all images with the link above.` : done);
    // Only while this image is still shown: a link followed during the save has the last word.
    if (location.pathname === `/projects/${project.id}/images/${imageId}`) go(next);
  };
  const go = (index: number) => {
    const image = placed ? all[index] : undefined;
    if (image) navigate(`/projects/${project.id}/images/${image.id}${query}`, { replace: true });
  };
  const back = `/projects/${project.id}/dataset${query}`;
  return (
    <section className="image-page">
      <nav className="toolbar" aria-label="Images">
        <Link href={back}>{query ? '← Filtered images' : '← All images'}</Link>
        <button type="button" onClick={() => go(previous)} disabled={!placed || previous < 0}>
          Previous
        </button>
        <button type="button" onClick={() => go(next)} disabled={!placed || next >= all.length}>
          Next
        </button>
        {position >= 0 && (
          <span className="hint">
            {position + 1} of {hasNextPage ? `more than ${all.length}` : all.length}
          </span>
        )}
        {left && <span className="hint">No longer in the filtered images: Next goes on with them.</span>}
      </nav>
      {saved && <p role="status">{saved}</p>}
      <ErrorMessage error={image.error ?? bytes.error} />
      {image.data && bytes.data && (
        <>
          <h2>{image.data.filename}</h2>
          {project.labels.length === 0 ? (
            <div className="label-form">
              <img src={bytes.data} alt={image.data.filename} className="large" />
              <p className="hint">
                This project has no labels yet. <Link href={`/projects/${project.id}/dataset`}>Add labels</Link> on the
                Dataset tab, then come back to{' '}
                {project.type === 'detection' ? 'draw a box around each object' : 'label this image'}.
              </p>
            </div>
          ) : project.type === 'detection' ? (
            <RegionsForm
              key={image.data.id + image.data.revision}
              project={project}
              image={image.data}
              onSaved={(count) =>
                savedAndNext(`Saved ${count} box${count === 1 ? '' : 'es'} on ${image.data!.filename}.`)
              }
            />
          ) : project.type === 'multilabel' ? (
            <LabelsForm project={project} image={image.data} src={bytes.data} />
          ) : (
            <LabelForm
              project={project}
              image={image.data}
              src={bytes.data}
              onLabeled={(name) => savedAndNext(`Labeled ${image.data!.filename} as ${name}.`)}
            />
          )}
          <MetadataEditor key={image.data.id} project={project} image={image.data} />
        </>
      )}
    </section>
  );
}

function LabelForm({
  project,
  image,
  src,
  onLabeled,
}: {
  project: Project;
  image: Image;
  src: string;
  /** The label's name. */
  onLabeled: (name: string) => void;
}) {
  const refresh = useRefreshImages(project.id);
  const label = useMutation({
    mutationFn: (labelId: string) => labelImages(project.id, [image.id], labelId),
    onSuccess: async (_, labelId) => {
      await refresh();
      onLabeled(project.labels.find((each) => each.id === labelId)!.name);
    },
  });
  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent) => {
      if ((event.target as HTMLElement).closest('input, select, textarea')) return;
      const picked = project.labels[Number(event.key) - 1];
      if (/^[1-9]$/.test(event.key) && picked) label.mutate(picked.id);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [project.labels, label]);
  return (
    <div className="label-form">
      <img src={src} alt={image.filename} className="large" />
      <div role="group" aria-label="Label">
        <p>Label: {image.label?.name ?? 'none yet'}</p>
        {project.labels.map((item, index) => (
          <button
            key={item.id}
            type="button"
            aria-pressed={image.label?.id === item.id}
            onClick={() => label.mutate(item.id)}
          >
            <kbd>{index + 1}</kbd> {item.name}
          </button>
        ))}
        <ErrorMessage error={label.error} />
      </div>
    </div>
  );
}

/**
 * Multilabel: each label a toggle (or its digit), as Custom Vision's tag chips; the image stays shown, so that several
 * labels can be given in turn, until Next.
 */
function LabelsForm({ project, image, src }: { project: Project; image: Image; src: string }) {
  const refresh = useRefreshImages(project.id);
  const label = useMutation({
    mutationFn: async (labels: string[]) =>
      unwrap(
        await api.PUT('/v1/projects/{projectId}/images/{imageId}/label', {
          params: { path: { projectId: project.id, imageId: image.id } },
          body: { labels },
        }),
      ),
    onSuccess: refresh,
  });
  // While a change is on its way, the next toggle builds on it rather than on the image as last read.
  const current = label.isPending && label.variables ? label.variables : image.labels.map((each) => each.id);
  const toggle = (labelId: string) =>
    label.mutate(current.includes(labelId) ? current.filter((id) => id !== labelId) : [...current, labelId]);
  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent) => {
      if ((event.target as HTMLElement).closest('input, select, textarea')) return;
      const picked = project.labels[Number(event.key) - 1];
      if (/^[1-9]$/.test(event.key) && picked) toggle(picked.id);
      else if (event.key === '0' && current.length) label.mutate([]);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });
  const names = project.labels.filter((each) => current.includes(each.id)).map((each) => each.name);
  return (
    <div className="label-form">
      <img src={src} alt={image.filename} className="large" />
      <div role="group" aria-label="Labels">
        <p role="status">Labels: {names.length ? names.join(', ') : 'none yet'}</p>
        <p className="hint">
          Press a label (or its number) to give it to the image; press it again to take it off. 0 removes every label.
        </p>
        {project.labels.map((item, index) => (
          <button key={item.id} type="button" aria-pressed={current.includes(item.id)} onClick={() => toggle(item.id)}>
            <kbd>{index + 1}</kbd> {item.name}
          </button>
        ))}
        {current.length > 0 && (
          <button type="button" onClick={() => label.mutate([])}>
            Remove every label
          </button>
        )}
        <ErrorMessage error={label.error} />
      </div>
    </div>
  );
}

function RegionsForm({
  project,
  image,
  onSaved,
}: {
  project: Project;
  image: Image;
  /** How many boxes the image has now. */
  onSaved: (count: number) => void;
}) {
  const refresh = useRefreshImages(project.id);
  const initial = image.regions.map(({ label, x, y, width, height }) => ({ label: label.id, x, y, width, height }));
  const [regions, setRegions] = useState<Region[]>(initial);
  const changed = JSON.stringify(regions) !== JSON.stringify(initial);
  const save = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.PUT('/v1/projects/{projectId}/images/{imageId}/regions', {
          params: { path: { projectId: project.id, imageId: image.id } },
          body: { regions },
        }),
      ),
    onSuccess: async () => {
      await refresh();
      onSaved(regions.length);
    },
  });
  // Saving goes to the next image itself: only boxes not (being) saved hold the user back.
  useLeaveWarning(
    changed && !save.isPending && !save.isSuccess
      ? 'The boxes of this image are not saved. Leave it and lose them?'
      : null,
  );
  return (
    <>
      <ErrorMessage error={save.error} />
      <BoxCorrection
        path={contentPath(project.id, image.id)}
        alt={image.filename}
        labels={project.labels}
        regions={regions}
        onChange={setRegions}
        takesLostFocus
      >
        <button type="button" className="primary" disabled={save.isPending} onClick={() => save.mutate()}>
          Save boxes and go to the next image
        </button>
        {changed && <span className="hint">Unsaved changes</span>}
      </BoxCorrection>
    </>
  );
}
