import { createContext, type ReactNode, useContext, useMemo } from 'react';
import type { ProjectLabel } from '../api/client';

/**
 * Colours for boxes and their captions, one slot per label: distinct from one another and dark enough for a
 * caption's white text (contrast at least 4.5:1).
 */
const PALETTE = ['#1d4ed8', '#b91c1c', '#047857', '#7e22ce', '#c2410c', '#0e7490', '#be185d', '#4d7c0f', '#a16207'];
/** A label no longer in the project (a model trained before it was removed). */
const UNKNOWN = '#4b5563';

/**
 * A label's colour from its `colorIndex`, which the api keeps for the label's life (a removed label's goes to the next
 * one added). Past the palette, hues a golden angle apart, dark enough for white text at any hue.
 */
const colourAt = (index: number) =>
  index < PALETTE.length ? PALETTE[index] : `hsl(${Math.round((index * 137.5) % 360)} 70% 26%)`;

type ColourOf = (label: string) => string;

const LabelColourContext = createContext<ColourOf>(() => UNKNOWN);

/**
 * Gives each label of the project its colour, by id and by name (boxes name their label either way), so a label has
 * the same colour on every page of the project (labeling, suggestions, predictions, metrics and test runs) and keeps
 * it while other labels come and go.
 */
export function LabelColours({ labels, children }: { labels: readonly ProjectLabel[]; children: ReactNode }) {
  const colourOf = useMemo(() => {
    const colours = new Map<string, string>();
    for (const label of labels) {
      const colour = colourAt(label.colorIndex);
      colours.set(label.id, colour);
      colours.set(label.name, colour);
    }
    return (label: string) => colours.get(label) ?? UNKNOWN;
  }, [labels]);
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
    <ul className="box-legend" aria-label="Box colors">
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
