import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, getSessionHeaders, type Project, type Schemas, toApiError, unwrap } from '../api/client';
import { isZip } from '../api/upload';
import { readAsDataUrl, SHOWN_PREDICTIONS, TryItResult } from '../pages/deploy-page';
import { ErrorMessage } from './error-message';
import { LabelOptions } from './label-options';
import { ThresholdSlider } from './threshold-slider';

type QuickTestResult = Schemas['QuickTestResultDto'];
type Prediction = Schemas['PredictionDto'];
type UploadResult = Schemas['UploadResultDto'];

const boxCount = (count: number) => `${count} box${count === 1 ? '' : 'es'}`;

/**
 * Custom Vision's Quick test: drop a photo, see what this iteration says (boxes drawn for detection) without
 * deploying it. Every box comes back once; the slider only hides the less probable ones, so it answers at once.
 */
export function QuickTest({ project, iterationId }: { project: Project; iterationId: string }) {
  const [photo, setPhoto] = useState<{ file: File; url: string } | null>(null);
  const [threshold, setThreshold] = useState(project.type === 'detection' ? 0.5 : 0);
  const test = useMutation({
    mutationFn: async (file: File): Promise<QuickTestResult> => {
      if (await isZip(file))
        throw new Error(`${file.name} is a zip, not a photo: choose one photo to test. Zips go to the Dataset tab.`);
      setPhoto({ file, url: await readAsDataUrl(file) });
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
        Try a photo the model has not seen, before deploying it. It is not kept unless you add it to the dataset.
      </p>
      <label>
        Drop a photo here or choose one
        <input type="file" accept="image/*" onChange={(event) => pick(event.target.files)} />
      </label>
      <ThresholdSlider
        label={`Show ${project.type === 'detection' ? 'boxes' : 'labels'} from a probability of `}
        value={threshold}
        onChange={setThreshold}
      />
      {test.isPending && <p role="status">Testing {photo?.file.name}…</p>}
      <ErrorMessage error={test.error} />
      {photo && test.data && (
        <>
          <TryItResult photo={photo.url} predictions={shown} />
          {/* A new picker result is a new photo: what was chosen to add it with starts again. */}
          <AddToDataset key={photo.url} project={project} file={photo.file} predictions={shown} />
        </>
      )}
    </section>
  );
}

/**
 * The photo into the dataset, so a mistake of the model becomes training data: with a label (the top prediction
 * unless corrected) or, for detection, with the boxes shown.
 */
function AddToDataset({ project, file, predictions }: { project: Project; file: File; predictions: Prediction[] }) {
  const queryClient = useQueryClient();
  const detection = project.type === 'detection';
  const [label, setLabel] = useState(predictions[0]?.label ?? project.labels[0]?.name ?? '');
  // The boxes drawn above, no more: a low slider can leave dozens of unlikely ones.
  const boxes = predictions.slice(0, SHOWN_PREDICTIONS).filter((prediction) => prediction.box);
  const add = useMutation({
    mutationFn: async () => {
      const form = new FormData();
      form.append('images', file);
      if (!detection) form.append('label', label);
      const response = await fetch(`/v1/projects/${project.id}/images`, {
        method: 'POST',
        headers: getSessionHeaders(),
        body: form,
      });
      const body = (await response.json().catch(() => undefined)) as UploadResult | undefined;
      if (!response.ok || !body) throw toApiError(response, body);
      const [item] = body.items;
      if (item.status === 'rejected') throw new Error(item.error?.message ?? `${file.name} was not added.`);
      if (detection && item.status === 'created')
        unwrap(
          await api.PUT('/v1/projects/{projectId}/images/{imageId}/regions', {
            params: { path: { projectId: project.id, imageId: item.id! } },
            body: { regions: boxes.map((prediction) => ({ label: prediction.label, ...prediction.box! })) },
          }),
        );
      return item.status;
    },
    onSuccess: () =>
      Promise.all(
        [
          ['images', project.id],
          ['project', project.id],
          ['labels', project.id],
        ].map((queryKey) => queryClient.invalidateQueries({ queryKey })),
      ),
  });
  if (add.data)
    return (
      <p role="status">
        {add.data === 'duplicate'
          ? 'This photo is already in the dataset: nothing was added.'
          : detection
            ? `Added to the dataset with ${boxCount(boxes.length)}.`
            : `Added to the dataset labeled ${label}.`}
      </p>
    );
  return (
    <form
      className="inline-form"
      aria-label="Add the photo to the dataset"
      onSubmit={(event) => {
        event.preventDefault();
        add.mutate();
      }}
    >
      {detection ? (
        <p className="hint">
          Adds the photo with the {boxCount(boxes.length)} shown; correct them on its page afterwards.
        </p>
      ) : (
        <label>
          Label
          <select value={label} onChange={(event) => setLabel(event.target.value)}>
            <LabelOptions labels={project.labels} by="name" />
          </select>
        </label>
      )}
      <button type="submit" disabled={add.isPending || (!detection && !label)}>
        Add to the dataset
      </button>
      <ErrorMessage error={add.error} />
    </form>
  );
}
