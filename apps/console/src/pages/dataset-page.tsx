import { useMutation, useQuery } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import {
  Fragment,
  type KeyboardEvent,
  type MouseEvent,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import { api, type Image, type Project, unwrap } from '../api/client';
import {
  filterFrom,
  filterQuery,
  type ImageFilter,
  setImageLabels,
  updateImages,
  useImages,
  useRefreshImages,
} from '../api/images';
import { AuthenticatedImage, thumbnailPath } from '../components/authenticated-image';
import { BoxesOverlay } from '../components/boxes-overlay';
import { ErrorMessage } from '../components/error-message';
import { UploadZone } from '../components/upload-zone';
import { VideoUpload } from '../components/video-upload';
import { navigate, useLocation } from '../router';
import { LabelsEditor } from './project-settings-page';
import { useSelection } from '../components/use-selection';
import { LabelOptions } from '../components/label-options';
import { plural } from '../components/plural';
import { Loading } from '../components/loading';
import { useLabelColour } from '../components/label-colours';

/** A grid cell's height and narrowest width: the columns share the grid's whole width (see .grid-row). */
const CELL = 150;

export function DatasetPage({ project }: { project: Project }) {
  const { path, search } = useLocation();
  // The filter lives in the URL (see filterFrom): a reload, a link or Back from an image keeps it.
  const query = filterQuery(filterFrom(search));
  const filter = useMemo(() => filterFrom(new URLSearchParams(query)), [query]);
  const setFilter = (next: ImageFilter) => navigate(`${path}${filterQuery(next)}`, { replace: true });
  const picker = useRef<HTMLInputElement>(null);
  const labels = useQuery({
    queryKey: ['labels', project.id],
    queryFn: async () =>
      unwrap(await api.GET('/v1/projects/{projectId}/labels', { params: { path: { projectId: project.id } } })),
  });
  return (
    <section>
      {project.labels.length === 0 && (
        <p className="hint">Start by adding the labels your model should learn, then upload photos.</p>
      )}
      <LabelsEditor project={project} />
      <UploadZone project={project} picker={picker} />
      <details className="card">
        <summary>Upload a video</summary>
        <VideoUpload project={project} />
      </details>
      <Filters project={project} filter={filter} onChange={setFilter} counts={labels.data?.items} />
      <ImageGrid
        project={project}
        filter={filter}
        onClearFilter={() => setFilter({})}
        onUpload={() => picker.current?.click()}
      />
    </section>
  );
}

function Filters({
  project,
  filter,
  onChange,
  counts,
}: {
  project: Project;
  filter: ImageFilter;
  onChange: (filter: ImageFilter) => void;
  counts?: { id: string; imageCount: number }[];
}) {
  const [metadata, setMetadata] = useState(filter.metadata ?? '');
  // The filters cleared elsewhere ("Show all images") clear the typed entry too.
  useEffect(() => {
    if (filter.metadata === undefined) setMetadata('');
  }, [filter.metadata]);
  const show = filter.unlabeled ? 'unlabeled' : filter.included === false ? 'excluded' : (filter.label ?? '');
  return (
    <div className="filters" role="group" aria-label="Filter images">
      <label>
        Show
        <select
          value={show}
          onChange={(event) => {
            const value = event.target.value;
            const { split, metadata } = filter;
            if (value === 'unlabeled') onChange({ split, metadata, unlabeled: true });
            else if (value === 'excluded') onChange({ split, metadata, included: false });
            else onChange({ split, metadata, label: value || undefined });
          }}
        >
          <option value="">All images</option>
          <option value="unlabeled">{project.type === 'detection' ? 'No boxes' : 'Unlabeled'}</option>
          <option value="excluded">Excluded from training</option>
          <LabelOptions
            labels={project.labels}
            describe={(label) => `${label.name} (${counts?.find((count) => count.id === label.id)?.imageCount ?? 0})`}
          />
        </select>
      </label>
      <label>
        Split
        <select
          value={filter.split ?? ''}
          onChange={(event) =>
            onChange({ ...filter, split: (event.target.value || undefined) as ImageFilter['split'] })
          }
        >
          <option value="">Any split</option>
          <option value="train">Train</option>
          <option value="validation">Validation</option>
          <option value="test">Test</option>
        </select>
      </label>
      <label>
        Metadata (key=value)
        <input
          type="search"
          value={metadata}
          placeholder="camera=north-gate"
          onChange={(event) => {
            const typed = event.target.value;
            setMetadata(typed);
            // Filter once the entry is whole (a key and "="), and again when it is cleared.
            if (typed === '' || /^[^=]+=/.test(typed)) onChange({ ...filter, metadata: typed || undefined });
          }}
        />
      </label>
    </div>
  );
}

/** "6 images" when every image is shown; "1–200 of 5,312 images" while more pages remain to scroll to. */
function shownOf(shown: number, total: number | undefined): string {
  if (total === undefined || shown >= total) return plural(shown, 'image');
  return `1–${shown.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} images`;
}

function ImageGrid({
  project,
  filter,
  onClearFilter,
  onUpload,
}: {
  project: Project;
  filter: ImageFilter;
  onClearFilter: () => void;
  onUpload: () => void;
}) {
  const images = useImages(project.id, filter);
  const all = useMemo(() => images.data?.pages.flatMap((page) => page.items) ?? [], [images.data]);
  const scroller = useRef<HTMLDivElement>(null);
  const [columns, setColumns] = useState(4);
  const [focused, setFocused] = useState(0);
  const { selected, setSelected, toggle } = useSelection();
  const [anchor, setAnchor] = useState(0);
  const refresh = useRefreshImages(project.id);
  const classification = project.type === 'classification';
  const multilabel = project.type === 'multilabel';

  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setColumns(Math.max(1, Math.floor(element.clientWidth / CELL))));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  useEffect(() => setSelected(new Set()), [filter]);

  const rows = Math.ceil(all.length / columns);
  const virtualizer = useVirtualizer({
    count: rows,
    getScrollElement: () => scroller.current,
    estimateSize: () => CELL,
    overscan: 3,
  });
  const virtualRows = virtualizer.getVirtualItems();
  const lastRow = virtualRows.at(-1)?.index ?? 0;
  useEffect(() => {
    if (lastRow >= rows - 2 && images.hasNextPage && !images.isFetchingNextPage) void images.fetchNextPage();
  }, [lastRow, rows, images]);

  const current = all[Math.min(focused, all.length - 1)];
  const targets = () => (selected.size ? all.filter((image) => selected.has(image.id)) : current ? [current] : []);
  const [lastLabelling, setLastLabelling] = useState<Labelling | null>(null);
  const label = useMutation({
    mutationFn: async (labelling: Labelling) => {
      await setImageLabels(project.id, labelling.after);
      return labelling;
    },
    onSuccess: (labelling) => {
      setLastLabelling(labelling);
      return refresh();
    },
  });
  const undo = useMutation({
    mutationFn: (labelling: Labelling) => setImageLabels(project.id, labelling.before),
    onSuccess: () => {
      setLastLabelling(null);
      return refresh();
    },
  });
  const labelName = (labelId: string) => project.labels.find((each) => each.id === labelId)?.name ?? labelId;
  /** Gives each image its new labels, remembering the old ones so that Undo puts them back. */
  const relabel = (images: Image[], labelsOf: (image: Image) => string[], text: string) =>
    label.mutate({
      before: images.map((image) => ({ imageId: image.id, labels: image.labels.map((each) => each.id) })),
      after: images.map((image) => ({ imageId: image.id, labels: labelsOf(image) })),
      text,
    });
  const applyLabel = (images: Image[], labelId: string | null) => {
    // Labelling spends the selection: a later Ctrl-click starts a new one instead of growing this one, so the next
    // digit cannot relabel these images by accident. Undo puts back what the last labelling replaced.
    setSelected(new Set());
    relabel(
      images,
      () => (labelId ? [labelId] : []),
      labelId ? `Labeled ${which(images)} as ${labelName(labelId)}.` : `Removed the label of ${which(images)}.`,
    );
  };
  /**
   * Multilabel, as Custom Vision tags a selection: adds the label to the images, or removes it, leaving their other
   * labels as they are. The selection stays, so that several labels can be added to it in turn.
   */
  const changeLabel = (images: Image[], labelId: string, change: 'add' | 'remove') =>
    relabel(
      images,
      (image) => {
        const others = image.labels.map((each) => each.id).filter((id) => id !== labelId);
        return change === 'add' ? [...others, labelId] : others;
      },
      change === 'add'
        ? `Added ${labelName(labelId)} to ${which(images)}.`
        : `Removed ${labelName(labelId)} from ${which(images)}.`,
    );
  /** A digit on a multilabel image: the label added, or removed when every image targeted has it already. */
  const toggleLabel = (images: Image[], labelId: string) =>
    changeLabel(
      images,
      labelId,
      images.every((image) => image.labels.some((each) => each.id === labelId)) ? 'remove' : 'add',
    );
  const clearLabels = (images: Image[]) => relabel(images, () => [], `Removed every label of ${which(images)}.`);
  const update = useMutation({
    mutationFn: (change: { split?: Image['split']; included?: boolean }) => updateImages(project.id, targets(), change),
    onSuccess: refresh,
  });

  const move = (to: number) => {
    const next = Math.max(0, Math.min(all.length - 1, to));
    setFocused(next);
    virtualizer.scrollToIndex(Math.floor(next / columns));
  };
  const onKeyDown = (event: KeyboardEvent) => {
    if (!current) return;
    const steps: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns };
    if (event.key in steps) {
      event.preventDefault();
      move(focused + steps[event.key]);
    } else if (event.key === 'Enter') {
      navigate(`/projects/${project.id}/images/${current.id}${filterQuery(filter)}`);
    } else if (event.key === ' ') {
      event.preventDefault();
      toggle(current.id);
    } else if (multilabel && /^[0-9]$/.test(event.key)) {
      const index = Number(event.key) - 1;
      const picked = index < 0 ? null : project.labels[index];
      if (picked === undefined) return;
      event.preventDefault();
      if (picked) toggleLabel(targets(), picked.id);
      else clearLabels(targets());
    } else if (classification && /^[0-9]$/.test(event.key)) {
      const index = Number(event.key) - 1;
      const picked = index < 0 ? null : project.labels[index];
      if (picked === undefined) return;
      event.preventDefault();
      applyLabel(targets(), picked?.id ?? null);
      if (!selected.size) move(focused + 1);
    } else if (event.key === 'Escape') {
      setSelected(new Set());
    }
  };
  const onCellClick = (event: MouseEvent, index: number) => {
    setFocused(index);
    if (event.shiftKey) {
      const [from, to] = [Math.min(anchor, index), Math.max(anchor, index)];
      setSelected(new Set(all.slice(from, to + 1).map((image) => image.id)));
    } else if (event.ctrlKey || event.metaKey) {
      toggle(all[index].id);
      setAnchor(index);
    } else {
      setAnchor(index);
    }
  };

  return (
    <div className="grid-area">
      <div className="toolbar" role="toolbar" aria-label="Selected images">
        <span role="status">
          {shownOf(all.length, images.data?.pages.at(-1)?.total)}
          {selected.size ? `, ${selected.size} selected` : ''}
        </span>
        {/* The grid takes the focus: its keys (a digit labels the selection) work at once, as its hint says. */}
        <button
          type="button"
          onClick={() => {
            setSelected(new Set(all.map((image) => image.id)));
            scroller.current?.focus();
          }}
          disabled={!all.length}
        >
          Select all
        </button>
        {selected.size > 0 && (
          <>
            {classification && (
              <label>
                Label selected as
                <select
                  value=""
                  onChange={(event) =>
                    applyLabel(
                      all.filter((image) => selected.has(image.id)),
                      event.target.value === 'none' ? null : event.target.value,
                    )
                  }
                >
                  <option value="" disabled>
                    choose…
                  </option>
                  <LabelOptions labels={project.labels} />
                  <option value="none">(no label)</option>
                </select>
              </label>
            )}
            {multilabel &&
              (
                [
                  ['Add label to selected', 'add'],
                  ['Remove label from selected', 'remove'],
                ] as const
              ).map(([title, change]) => (
                <label key={change}>
                  {title}
                  <select
                    value=""
                    onChange={(event) =>
                      changeLabel(
                        all.filter((image) => selected.has(image.id)),
                        event.target.value,
                        change,
                      )
                    }
                  >
                    <option value="" disabled>
                      choose…
                    </option>
                    <LabelOptions labels={project.labels} />
                  </select>
                </label>
              ))}
            <label>
              Move to split
              <select value="" onChange={(event) => update.mutate({ split: event.target.value as Image['split'] })}>
                <option value="" disabled>
                  choose…
                </option>
                <option value="train">Train</option>
                <option value="validation">Validation</option>
                <option value="test">Test</option>
              </select>
            </label>
            <button type="button" onClick={() => update.mutate({ included: false })}>
              Exclude from training
            </button>
            <button type="button" onClick={() => update.mutate({ included: true })}>
              Include in training
            </button>
            <button type="button" onClick={() => setSelected(new Set())}>
              Clear selection
            </button>
          </>
        )}
        {lastLabelling && (
          <span className="last-labelling">
            <span role="status">{lastLabelling.text}</span>
            <button type="button" onClick={() => undo.mutate(lastLabelling)} disabled={undo.isPending}>
              Undo
            </button>
          </span>
        )}
      </div>
      {/* The keys need images to act on: an empty grid says how to fill it instead. */}
      {all.length > 0 && (
        <p className="hint">
          {multilabel
            ? 'Click the grid, then: arrows move, 1–9 add a label to the image (or the selection), or take it off when it is there already, 0 removes every label, space selects, Enter opens. Shift-click selects a range, Ctrl-click adds one.'
            : classification
              ? 'Click the grid, then: arrows move, 1–9 label the image (or the selection, which then clears), 0 removes the label, space selects, Enter opens. Shift-click selects a range, Ctrl-click adds one.'
              : 'Enter (or double-click) opens an image to draw its boxes. Arrows move, space selects.'}
        </p>
      )}
      <ErrorMessage error={images.error ?? label.error ?? undo.error ?? update.error} />
      {images.isPending && <Loading what="the images" />}
      {images.data && all.length === 0 && (
        <EmptyGrid
          projectType={project.type}
          filtered={Object.values(filter).some((value) => value !== undefined)}
          onClearFilter={onClearFilter}
          onUpload={onUpload}
        />
      )}
      <div
        ref={scroller}
        hidden={all.length === 0}
        className="image-grid"
        tabIndex={0}
        role="listbox"
        aria-label="Images"
        aria-multiselectable="true"
        aria-activedescendant={current ? `image-${current.id}` : undefined}
        onKeyDown={onKeyDown}
      >
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {virtualRows.map((row) => (
            <div
              key={row.key}
              className="grid-row"
              style={{
                transform: `translateY(${row.start}px)`,
                height: CELL,
                gridTemplateColumns: `repeat(${columns}, minmax(0, 1fr))`,
              }}
            >
              {all.slice(row.index * columns, row.index * columns + columns).map((image, column) => {
                const index = row.index * columns + column;
                return (
                  <div
                    key={image.id}
                    id={`image-${image.id}`}
                    role="option"
                    aria-selected={selected.has(image.id)}
                    aria-label={describe(project, image)}
                    className={`cell ${index === focused ? 'focused' : ''} ${selected.has(image.id) ? 'selected' : ''} ${image.included ? '' : 'excluded'}`}
                    onClick={(event) => onCellClick(event, index)}
                    onDoubleClick={() => navigate(`/projects/${project.id}/images/${image.id}${filterQuery(filter)}`)}
                  >
                    <Thumbnail project={project} image={image} />
                    {multilabel ? (
                      <ImageLabels project={project} image={image} />
                    ) : (
                      <span className="cell-label" title={caption(project, image)}>
                        {caption(project, image)}
                      </span>
                    )}
                  </div>
                );
              })}
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}

/** The largest size of a thumbnail in its cell (see .cell img). */
const THUMBNAIL = { width: 128, height: 100 };

/** A cell's picture; a detection image's boxes drawn on it, as Custom Vision's and Roboflow's grids show them. */
function Thumbnail({ project, image }: { project: Project; image: Image }) {
  const picture = <AuthenticatedImage path={thumbnailPath(project.id, image.id, THUMBNAIL.width)} alt="" />;
  if (project.type !== 'detection' || image.regions.length === 0) return picture;
  // The boxes are fractions of the picture: the overlay takes the picture's own shape within the cell.
  const scale = Math.min(THUMBNAIL.width / image.width, THUMBNAIL.height / image.height);
  return (
    <BoxesOverlay
      className="small cell-boxes"
      style={{ width: Math.round(image.width * scale), height: Math.round(image.height * scale) }}
      expected={image.regions.map(({ label, x, y, width, height }) => ({ label: label.name, x, y, width, height }))}
    >
      {picture}
    </BoxesOverlay>
  );
}

/** What an upload of the project's type takes along with its photos: folders as labels, or annotation files. */
const ARCHIVES_THAT_LABEL: Record<Project['type'], string> = {
  classification: 'or a .zip whose folders are labels',
  multilabel: 'or a .zip whose folders are labels, or with a CSV of file names and a 1 or 0 per label',
  detection: 'with the COCO JSON file your labeling tool exported, or a .zip of both: their boxes come along',
};

/** An empty grid says why and what to do, rather than showing a blank box. */
function EmptyGrid({
  projectType,
  filtered,
  onClearFilter,
  onUpload,
}: {
  projectType: Project['type'];
  filtered: boolean;
  onClearFilter: () => void;
  onUpload: () => void;
}) {
  return (
    <div className="empty-state">
      {filtered ? (
        <>
          <p>No image matches these filters.</p>
          <button type="button" onClick={onClearFilter}>
            Show all images
          </button>
        </>
      ) : (
        <>
          <p>
            <strong>No photos yet.</strong> Upload the photos your model should learn from: drop them (
            {ARCHIVES_THAT_LABEL[projectType]}) on the upload area above, or choose them from your computer.
          </p>
          <button type="button" className="primary" onClick={onUpload}>
            Choose photos to upload
          </button>
        </>
      )}
    </div>
  );
}

/** One labelling of images: what each had before, so it can be undone, and what each has after. */
interface Labelling {
  before: { imageId: string; labels: string[] }[];
  after: { imageId: string; labels: string[] }[];
  /** What it did, in words: "Labeled 3 images as Hemlock." */
  text: string;
}

/** The one image by its name, or how many. */
const which = (images: Image[]) => (images.length === 1 ? images[0].filename : plural(images.length, 'image'));

/** A multilabel image's labels as tags in its label's colour (two lines at most; the whole list is its title). */
function ImageLabels({ project, image }: { project: Project; image: Image }) {
  const colourOf = useLabelColour();
  const labels = labelsInOrder(project, image);
  return (
    <span className="cell-label cell-tags" title={caption(project, image)}>
      {labels.length === 0
        ? 'unlabeled'
        : labels.map((label, index) => (
            // A space between the tags, so that their text reads as words, as the cell's accessible name has them.
            <Fragment key={label.id}>
              {index > 0 && ' '}
              <span className="tag" style={{ borderColor: colourOf(label.id) }}>
                {label.name}
              </span>
            </Fragment>
          ))}
    </span>
  );
}

/** Its labels, or how many boxes of which labels it has ("no boxes" yet: a detection photo has no label). */
function caption(project: Project, image: Image): string {
  const count = image.regions.length;
  if (project.type === 'detection' && !count) return 'no boxes';
  if (!count)
    return (
      labelsInOrder(project, image)
        .map((label) => label.name)
        .join(', ') || 'unlabeled'
    );
  const labels = [...new Set(image.regions.map((region) => region.label.name))];
  return `${count} box${count > 1 ? 'es' : ''}: ${labels.join(', ')}`;
}

/** An image's labels in the project's order, whatever order they were given in. */
function labelsInOrder(project: Project, image: Image): Image['labels'] {
  const rank = (id: string) => project.labels.findIndex((label) => label.id === id);
  return [...image.labels].sort((a, b) => rank(a.id) - rank(b.id));
}

function describe(project: Project, image: Image): string {
  const parts = [image.filename, caption(project, image), image.split];
  if (!image.included) parts.push('excluded');
  return parts.join(', ');
}
