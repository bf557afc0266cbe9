import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { getSessionHeaders, type Project, type Schemas, toApiError } from '../api/client';
import { isZip } from '../api/upload';
import { readAsDataUrl, TryItResult } from '../pages/deploy-page';
import { ErrorMessage } from './error-message';

type QuickTestResult = Schemas['QuickTestResultDto'];

/**
 * Custom Vision's Quick test: drop a photo, see what this iteration says (boxes drawn for detection) without
 * deploying it. Every box comes back once; the slider only hides the less probable ones, so it answers at once.
 */
export function QuickTest({ project, iterationId }: { project: Project; iterationId: string }) {
  const [photo, setPhoto] = useState<{ name: string; url: string } | null>(null);
  const [threshold, setThreshold] = useState(project.type === 'detection' ? 0.5 : 0);
  const test = useMutation({
    mutationFn: async (file: File): Promise<QuickTestResult> => {
      if (await isZip(file))
        throw new Error(`${file.name} is a zip, not a photo: choose one photo to test. Zips go to the Dataset tab.`);
      setPhoto({ name: file.name, url: await readAsDataUrl(file) });
      const response = await fetch(`/v1/projects/${project.id}/iterations/${iterationId}/quick-test?threshold=0`, {
        method: 'POST',
        headers: { ...getSessionHeaders(), 'Content-Type': file.type || 'application/octet-stream' },
        body: file,
      });
      const body = (await response.json().catch(() => undefined)) as QuickTestResult | undefined;
      if (!response.ok || !body) throw toApiError(response, body);
      return body;
    },
  });
  const pick = (files: FileList | null) => {
    if (files?.[0]) test.mutate(files[0]);
  };
  const shown = test.data?.predictions.filter((prediction) => prediction.probability >= threshold) ?? [];
  return (
    <section
      className="card try-it"
      aria-label="Quick test"
      onDragOver={(event) => event.preventDefault()}
      onDrop={(event) => {
        event.preventDefault();
        pick(event.dataTransfer.files);
      }}
    >
      <h3>Quick test</h3>
      <p className="hint">
        Try a photo the model has not seen, before deploying it. The photo is not kept and not added to the dataset.
      </p>
      <label>
        Drop a photo here or choose one
        <input type="file" accept="image/*" onChange={(event) => pick(event.target.files)} />
      </label>
      <label className="slider">
        Show {project.type === 'detection' ? 'boxes' : 'labels'} from a probability of {Math.round(threshold * 100)}%
        <input
          type="range"
          min={0}
          max={1}
          step={0.05}
          value={threshold}
          onChange={(event) => setThreshold(Number(event.target.value))}
        />
      </label>
      {test.isPending && <p role="status">Testing {photo?.name}…</p>}
      <ErrorMessage error={test.error} />
      {photo && test.data && <TryItResult photo={photo.url} predictions={shown} />}
    </section>
  );
}
