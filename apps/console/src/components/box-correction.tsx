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
  children,
}: {
  title: string;
  path: string;
  alt: string;
  labels: Label[];
  regions: Region[];
  onChange: (regions: Region[]) => void;
  children: ReactNode;
}) {
  const photo = useQuery({ queryKey: ['bytes', path], queryFn: () => fetchDataUrl(path), staleTime: Infinity, gcTime: 10 * 60_000 });
  const [drawLabel, setDrawLabel] = useState(labels[0]?.id ?? '');
  return (
    <section className="card box-correction" aria-label={title}>
      <h3>{title}</h3>
      <div className="toolbar">
        <label>
          New boxes are
          <select value={drawLabel} onChange={(event) => setDrawLabel(event.target.value)}>
            <LabelOptions labels={labels} />
          </select>
        </label>
        {children}
      </div>
      <ErrorMessage error={photo.error} />
      {photo.data ? (
        <BoxEditor src={photo.data} alt={alt} labels={labels} regions={regions} onChange={onChange} drawLabel={drawLabel} />
      ) : (
        <span className="image-placeholder" role="img" aria-label={alt} />
      )}
    </section>
  );
}
