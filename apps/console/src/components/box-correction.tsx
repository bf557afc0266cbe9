import { useQuery } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { fetchDataUrl, type Label, type Region } from '../api/client';
import { BoxEditor } from './box-editor';
import { ErrorMessage } from './error-message';
import { LabelOptions } from './label-options';

/**
 * A photo's boxes to correct before they are written (a model's suggestion or a stored prediction): the label new
 * boxes get, the box editor on the full-size photo, and the caller's buttons.
 */
export function BoxCorrection({
  title,
  path,
  alt,
  labels,
  regions,
  onChange,
  onReset,
  onClose,
  takesLostFocus = false,
  children,
}: {
  /** A heading, where the page has none naming the photo already. */
  title?: string;
  path: string;
  alt: string;
  labels: Label[];
  regions: Region[];
  onChange: (regions: Region[]) => void;
  /** Back to the model's boxes; absent (or null) while they are not changed. */
  onReset?: (() => void) | null;
  /** Where the panel can be closed without writing anything. */
  onClose?: () => void;
  /** The photo takes the focus when it appears, if nothing has it (see BoxEditor). */
  takesLostFocus?: boolean;
  children: ReactNode;
}) {
  const photo = useQuery({
    queryKey: ['bytes', path],
    queryFn: () => fetchDataUrl(path),
    staleTime: Infinity,
    gcTime: 10 * 60_000,
  });
  const [drawLabel, setDrawLabel] = useState(labels[0]?.id ?? '');
  return (
    <section className="card box-correction" aria-label={title ?? `Boxes of ${alt}`}>
      {title && <h3>{title}</h3>}
      <div className="toolbar">
        <label>
          New boxes are
          <select value={drawLabel} onChange={(event) => setDrawLabel(event.target.value)}>
            <LabelOptions labels={labels} />
          </select>
        </label>
        {children}
        {onReset !== undefined && (
          <button type="button" onClick={onReset ?? undefined} disabled={onReset === null}>
            Back to the model's boxes
          </button>
        )}
        {onClose && (
          <button type="button" onClick={onClose}>
            Close
          </button>
        )}
      </div>
      <ErrorMessage error={photo.error} />
      {photo.data ? (
        <BoxEditor
          src={photo.data}
          alt={alt}
          labels={labels}
          regions={regions}
          onChange={onChange}
          drawLabel={drawLabel}
          takesLostFocus={takesLostFocus}
        />
      ) : (
        <span className="image-placeholder" role="img" aria-label={alt} />
      )}
    </section>
  );
}

/** The corrections of every photo but one (the one set back to the model's boxes). */
export function withoutKey<T>(record: Record<string, T>, key: string): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([other]) => other !== key));
}
