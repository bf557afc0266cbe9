import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { api, getSessionHeaders, type Project, refusedFile, type Schemas, toApiError, unwrap } from '../api/client';
import { useRefreshImages } from '../api/images';
import { isZip, photoContentType } from '../api/upload';
import { readAsDataUrl, SHOWN_PREDICTIONS, TryItResult } from '../pages/deploy-page';
import { ErrorMessage } from './error-message';
import { LabelChoices } from './label-choices';
import { LabelOptions } from './label-options';
import { thresholdPercent } from './metric-thresholds';
import { plural } from './plural';
import { ThresholdSlider } from './threshold-slider';

type QuickTestResult = Schemas['QuickTestResultDto'];
type Prediction = Schemas['PredictionDto'];
type UploadResult = Schemas['UploadResultDto'];

const boxCount = (count: number) => `${count} box${count === 1 ? '' : 'es'}`;

/**
 * Custom Vision's Quick test: drop a photo, see what this iteration says (boxes drawn for detection) without
 * deploying it. Every box comes back once; the slider only hides the less probable ones, so it answers at once.
 */
export function QuickTest({
  project,
  iterationId,
  intro = 'Try a photo the model has not seen, before deploying it. It is not kept unless you add it to the dataset.',
  pickerLabel = 'Drop a photo here or choose one',
  name = 'Quick test',
}: {
  project: Project;
  iterationId: string;
  /** What testing here is for, in words: before deploying, or in place of a deployment's key. */
  intro?: string;
  /** The photo picker's name, distinct from another picker on the same page (a deployment's Try it). */
  pickerLabel?: string;
  /** The section's name, distinct when a page has several (one per deployment). */
  name?: string;
}) {
  const [photo, setPhoto] = useState<{ file: File; url: string } | null>(null);
  // A photo tested by its URL: the console shows only its own server's images, so it is named and linked, not drawn.
  const [testedUrl, setTestedUrl] = useState<string | null>(null);
  const [imageUrl, setImageUrl] = useState('');
  const multilabel = project.type === 'multilabel';
  // A multilabel model gives each label its own probability: the threshold decides which it gives, 50% as its metrics.
  const [threshold, setThreshold] = useState(project.type === 'classification' ? 0 : 0.5);
  const test = useMutation({
    mutationFn: async (source: File | string): Promise<QuickTestResult> => {
      if (typeof source === 'string') {
        setPhoto(null);
        setTestedUrl(source);
        return unwrap(
          await api.POST('/v1/projects/{projectId}/iterations/{iterationId}/quick-test/url', {
            params: { path: { projectId: project.id, iterationId }, query: { threshold: 0 } },
            body: { url: source },
          }),
        );
      }
      const file = source;
      if (await isZip(file))
        throw new Error(`${file.name} is a zip, not a photo: choose one photo to test. Zips go to the Dataset tab.`);
      setTestedUrl(null);
      setPhoto({ file, url: await readAsDataUrl(file) });
      const response = await fetch(`/v1/projects/${project.id}/iterations/${iterationId}/quick-test?threshold=0`, {
        method: 'POST',
        headers: { ...getSessionHeaders(), 'Content-Type': photoContentType(file) },
        body: file,
      });
      const body = (await response.json().catch(() => undefined)) as QuickTestResult | undefined;
      if (!response.ok || !body) throw refusedFile(file.name, response, body, true);
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
      aria-label={name}
      onDragOver={(event) => event.preventDefault()}
      onDrop={(event) => {
        event.preventDefault();
        pick(event.dataTransfer.files);
      }}
    >
      <h3>Quick test</h3>
      <p className="hint">{intro}</p>
      <label>
        {pickerLabel}
        <input type="file" accept="image/*" onChange={(event) => pick(event.target.files)} />
      </label>
      <form
        className="inline-form"
        aria-label="Test a photo at a URL"
        onSubmit={(event) => {
          event.preventDefault();
          test.mutate(imageUrl.trim());
        }}
      >
        <label>
          Image URL
          <input
            type="url"
            required
            placeholder="https://example.com/photo.jpg"
            value={imageUrl}
            onChange={(event) => setImageUrl(event.target.value)}
          />
        </label>
        <button type="submit" disabled={test.isPending}>
          Test the URL
        </button>
      </form>
      <ThresholdSlider
        label={
          multilabel
            ? 'Give the labels from a probability of '
            : `Show ${project.type === 'detection' ? 'boxes' : 'labels'} from a probability of `
        }
        value={threshold}
        onChange={setThreshold}
        hint={
          multilabel ? 'Every label is listed with its probability; those from the threshold are marked ✓.' : undefined
        }
      />
      {test.isPending && <p role="status">Testing {testedUrl ?? photo?.file.name}…</p>}
      <ErrorMessage error={test.error} />
      {test.data && (photo || testedUrl) && (
        <>
          {testedUrl && (
            <p>
              The photo at{' '}
              <a href={testedUrl} target="_blank" rel="noreferrer">
                {testedUrl}
              </a>
              :
            </p>
          )}
          {multilabel ? (
            <MultilabelResult photo={photo?.url} predictions={test.data.predictions} threshold={threshold} />
          ) : (
            <TryItResult photo={photo?.url} predictions={shown} />
          )}
          {/* A new photo starts what was chosen to add it with again. A URL's photo is fetched again by the server
              (POST …/images/urls): the console never holds its bytes. */}
          {multilabel ? (
            <AddWithLabels
              key={photo?.url ?? test.submittedAt}
              project={project}
              photo={photo?.file ?? testedUrl!}
              given={given(test.data, threshold)}
            />
          ) : (
            <AddToDataset
              key={photo?.url ?? test.submittedAt}
              project={project}
              photo={photo?.file ?? testedUrl!}
              predictions={shown}
            />
          )}
        </>
      )}
    </section>
  );
}

/** The label names a multilabel model gives at this threshold. */
const given = (result: QuickTestResult, threshold: number) =>
  result.predictions.filter((prediction) => prediction.probability >= threshold).map((prediction) => prediction.label);

/** Every label with its own probability, as a multilabel model answers; those at or above the threshold marked. */
function MultilabelResult({
  photo,
  predictions,
  threshold,
}: {
  /** Not drawn for a photo tested by its URL. */
  photo?: string;
  predictions: Prediction[];
  threshold: number;
}) {
  return (
    <div className="prediction">
      {photo && <img src={photo} alt="The photo you tried" />}
      <div>
        <p>
          {plural(predictions.filter((prediction) => prediction.probability >= threshold).length, 'label')} from{' '}
          {thresholdPercent(threshold)}:
        </p>
        <ul className="label-probabilities" aria-label="Predictions">
          {predictions.map((prediction) => {
            const above = prediction.probability >= threshold;
            return (
              <li key={prediction.label} className={above ? 'given' : ''}>
                <span aria-hidden="true">{above ? '✓' : ''}</span>
                <span>{prediction.label}</span>
                <meter min={0} max={1} value={prediction.probability} aria-hidden="true" />
                <span>{(prediction.probability * 100).toFixed(1)}%</span>
                {/* In words for a screen reader, as the tick and the bar show it. */}
                <span className="visually-hidden">{above ? ', given' : ', below the threshold'}</span>
              </li>
            );
          })}
        </ul>
      </div>
    </div>
  );
}

/** Uploads the tested photo with the given form fields; its one item, or an error when it was refused. */
async function addPhoto(projectId: string, file: File, fields: Record<string, string>) {
  const form = new FormData();
  form.append('images', file);
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  const response = await fetch(`/v1/projects/${projectId}/images`, {
    method: 'POST',
    headers: getSessionHeaders(),
    body: form,
  });
  const body = (await response.json().catch(() => undefined)) as UploadResult | undefined;
  if (!response.ok || !body) throw toApiError(response, body);
  const [item] = body.items;
  if (item.status === 'rejected') throw new Error(item.error?.message ?? `${file.name} was not added.`);
  return item;
}

/** The photo at a URL into the dataset with `labels`, fetched by the server; its one item, or an error when refused. */
async function addPhotoAt(projectId: string, url: string, labels: string[]) {
  const body = unwrap(
    await api.POST('/v1/projects/{projectId}/images/urls', {
      params: { path: { projectId } },
      body: { urls: [url], labels },
    }),
  );
  const [item] = body.items;
  if (item.status === 'rejected') throw new Error(item.error?.message ?? `${url} was not added.`);
  return item;
}

/**
 * A multilabel photo into the dataset with the labels the model gives it at the threshold, until some are ticked or
 * unticked by hand.
 */
function AddWithLabels({
  project,
  photo,
  given,
}: {
  project: Project;
  /** A file chosen here, or the URL of a photo tested by its URL. */
  photo: File | string;
  given: string[];
}) {
  const refreshImages = useRefreshImages(project.id);
  const [chosen, setChosen] = useState<string[] | null>(null);
  const labels = chosen ?? project.labels.map((label) => label.name).filter((name) => given.includes(name));
  const add = useMutation({
    mutationFn: async () => {
      if (typeof photo !== 'string') {
        const item = await addPhoto(project.id, photo, { labels: JSON.stringify(labels) });
        return { status: item.status, labels, named: '' };
      }
      const item = await addPhotoAt(project.id, photo, labels);
      return { status: item.status, labels, named: ` as ${item.filename}` };
    },
    onSuccess: refreshImages,
  });
  if (add.data)
    return (
      <p role="status">
        {add.data.status === 'duplicate'
          ? 'This photo is already in the dataset: nothing was added.'
          : add.data.labels.length
            ? `Added to the dataset labeled ${add.data.labels.join(', ')}${add.data.named}.`
            : `Added to the dataset without labels${add.data.named}.`}
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
      <LabelChoices legend="Labels to add it with" labels={project.labels} chosen={labels} onChange={setChosen} />
      <button type="submit" disabled={add.isPending}>
        Add to the dataset
      </button>
      <ErrorMessage error={add.error} />
    </form>
  );
}

/**
 * The photo into the dataset, so a mistake of the model becomes training data: with a label (the top prediction
 * unless corrected) or, for detection, with the boxes shown.
 */
function AddToDataset({
  project,
  photo,
  predictions,
}: {
  project: Project;
  /** A file chosen here, or the URL of a photo tested by its URL. */
  photo: File | string;
  predictions: Prediction[];
}) {
  const refreshImages = useRefreshImages(project.id);
  const detection = project.type === 'detection';
  const [label, setLabel] = useState(predictions[0]?.label ?? project.labels[0]?.name ?? '');
  // The boxes drawn above, no more: a low slider can leave dozens of unlikely ones.
  const boxes = predictions.slice(0, SHOWN_PREDICTIONS).filter((prediction) => prediction.box);
  const add = useMutation({
    mutationFn: async () => {
      const item =
        typeof photo === 'string'
          ? await addPhotoAt(project.id, photo, detection ? [] : [label])
          : await addPhoto(project.id, photo, detection ? {} : { label });
      if (detection && item.status === 'created')
        unwrap(
          await api.PUT('/v1/projects/{projectId}/images/{imageId}/regions', {
            params: { path: { projectId: project.id, imageId: item.id! } },
            body: { regions: boxes.map((prediction) => ({ label: prediction.label, ...prediction.box! })) },
          }),
        );
      return item;
    },
    onSuccess: refreshImages,
  });
  if (add.data) {
    // A photo from a URL gets its name from the server (the URL's last part): said, as the dataset will show it.
    const named = typeof photo === 'string' ? ` as ${add.data.filename}` : '';
    return (
      <p role="status">
        {add.data.status === 'duplicate'
          ? 'This photo is already in the dataset: nothing was added.'
          : detection
            ? `Added to the dataset with ${boxCount(boxes.length)}${named}.`
            : `Added to the dataset labeled ${label}${named}.`}
      </p>
    );
  }
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
