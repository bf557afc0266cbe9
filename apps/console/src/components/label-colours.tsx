import { useQuery } from '@tanstack/react-query';
import { createContext, type ReactNode, useContext, useEffect, useMemo, useRef } from 'react';
import { api, type Label, unwrap } from '../api/client';

/**
 * Colours for boxes and their captions, one slot per label: distinct from one another and dark enough for a
 * caption's white text (contrast at least 4.5:1).
 */
const PALETTE = ['#1d4ed8', '#b91c1c', '#047857', '#7e22ce', '#c2410c', '#0e7490', '#be185d', '#4d7c0f', '#a16207'];
/** A label no longer in the project (a model trained before it was removed). */
const UNKNOWN = '#4b5563';

/** Past the palette, hues a golden angle apart, dark enough for white text at any hue. */
const colourAt = (slot: number) =>
  slot < PALETTE.length ? PALETTE[slot] : `hsl(${Math.round((slot * 137.5) % 360)} 70% 26%)`;

/** A label added to or removed from the project, in log order. */
export interface LabelChange {
  type: 'LabelAdded' | 'LabelRemoved';
  labelId: string;
}

/**
 * Each label's colour slot, given once for its life: when it was added, the lowest slot no living label held. A
 * removed label frees its slot for labels added later and moves no other label's colour. Labels the changes do not
 * know yet (added since they were read, or the history could not be read) take the lowest free slots in their order.
 */
export function colourSlots(changes: readonly LabelChange[], labels: readonly Label[]): Map<string, number> {
  const held = new Map<string, number>();
  const lowestFree = () => {
    const taken = new Set(held.values());
    let slot = 0;
    while (taken.has(slot)) slot += 1;
    return slot;
  };
  for (const change of changes) {
    if (change.type === 'LabelRemoved') held.delete(change.labelId);
    else if (!held.has(change.labelId)) held.set(change.labelId, lowestFree());
  }
  const current = new Set(labels.map((label) => label.id));
  for (const labelId of held.keys()) if (!current.has(labelId)) held.delete(labelId);
  for (const label of labels) if (!held.has(label.id)) held.set(label.id, lowestFree());
  return held;
}

/** Every event of one type in the project's history, in log order. */
async function historyOfType(projectId: string, type: LabelChange['type']) {
  const changes: (LabelChange & { position: number })[] = [];
  let after: number | undefined;
  do {
    const page = unwrap(
      await api.GET('/v1/projects/{projectId}/history', {
        params: { path: { projectId }, query: { after, limit: 1000, type } },
      }),
    );
    for (const event of page.items) {
      const labelId = (event.data as { labelId?: unknown }).labelId;
      if (typeof labelId === 'string') changes.push({ type, labelId, position: event.position });
    }
    after = page.nextCursor === null ? undefined : Number(page.nextCursor);
  } while (after !== undefined);
  return changes;
}

/**
 * The project's label additions and removals, read from its history at the same time as the project. Read again when
 * the project names a label they do not know (added in another tab). No answer is not an error: colours then follow
 * the labels' order.
 */
export function useLabelChanges(projectId: string, labels: readonly Label[] | undefined) {
  const changes = useQuery({
    queryKey: ['label-changes', projectId],
    retry: false,
    staleTime: Infinity,
    // One type per request: the history finds a single type by its index, while several are filtered by scanning
    // every event of the project, thousands of uploads and labelings included.
    queryFn: async () => {
      const [added, removed] = await Promise.all([
        historyOfType(projectId, 'LabelAdded'),
        historyOfType(projectId, 'LabelRemoved'),
      ]);
      return [...added, ...removed]
        .sort((a, b) => a.position - b.position)
        .map(({ type, labelId }): LabelChange => ({ type, labelId }));
    },
  });
  const known = useMemo(() => new Set(changes.data?.map((change) => change.labelId)), [changes.data]);
  const unknown =
    labels
      ?.filter((label) => !known.has(label.id))
      .map((label) => label.id)
      .join(',') ?? '';
  // Once per set of unknown labels: a label the history never names must not make it read again and again.
  const readAgainFor = useRef('');
  const { refetch, isFetching, data } = changes;
  useEffect(() => {
    if (unknown === '' || !data || isFetching || readAgainFor.current === unknown) return;
    readAgainFor.current = unknown;
    void refetch();
  }, [unknown, data, isFetching, refetch]);
  return changes;
}

type ColourOf = (label: string) => string;

const LabelColourContext = createContext<ColourOf>(() => UNKNOWN);

/**
 * Gives each label of the project its colour, by id and by name (boxes name their label either way), so a label has
 * the same colour on every page of the project (labeling, suggestions, predictions, metrics and test runs) and keeps
 * it while other labels come and go.
 */
export function LabelColours({
  labels,
  changes,
  children,
}: {
  labels: readonly Label[];
  changes: readonly LabelChange[];
  children: ReactNode;
}) {
  const colourOf = useMemo(() => {
    const slots = colourSlots(changes, labels);
    const colours = new Map<string, string>();
    for (const label of labels) {
      const colour = colourAt(slots.get(label.id) ?? 0);
      colours.set(label.id, colour);
      colours.set(label.name, colour);
    }
    return (label: string) => colours.get(label) ?? UNKNOWN;
  }, [labels, changes]);
  return <LabelColourContext.Provider value={colourOf}>{children}</LabelColourContext.Provider>;
}

/** The colour of a label, named by id or by name. */
export const useLabelColour = () => useContext(LabelColourContext);

/**
 * Which colour is which label, where boxes of several labels show (nothing for fewer: a caption or the page says it).
 * `labels` are names; repeats count once.
 */
export function BoxLegend({ labels }: { labels: readonly string[] }) {
  const colourOf = useLabelColour();
  const distinct = [...new Set(labels)];
  if (distinct.length < 2) return null;
  return (
    <ul className="box-legend" aria-label="Box colours">
      {distinct.map((label) => (
        <li key={label}>
          <LabelSwatch colour={colourOf(label)} />
          {label}
        </li>
      ))}
    </ul>
  );
}

/** A small square of a label's colour beside its name. */
export function LabelSwatch({ colour }: { colour: string }) {
  return <span className="swatch" style={{ background: colour }} aria-hidden="true" />;
}
