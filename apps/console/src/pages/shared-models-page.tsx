import { useMutation, useQuery } from '@tanstack/react-query';
import { useDeferredValue, useState } from 'react';
import { api, getSessionHeaders, type Project, type Schemas, toApiError, unwrap } from '../api/client';
import { photoContentType } from '../api/upload';
import { ErrorMessage } from '../components/error-message';
import { readAsDataUrl } from './deploy-page';
import { percent } from '../components/percent';

type SharedModel = Schemas['SharedModelDto'];
type Prediction = Schemas['PredictionDto'];

/** Models other users of this server shared: search them, and try one on a photo with your own login. */
export function SharedModelsPage() {
  const [search, setSearch] = useState('');
  const [task, setTask] = useState<'' | Project['type']>('');
  const q = useDeferredValue(search.trim());
  const models = useQuery({
    queryKey: ['shared-models', q, task],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/shared-models', {
          params: { query: { limit: 100, q: q || undefined, task: task || undefined } },
        }),
      ),
  });
  return (
    <main id="content">
      <h1>Shared models</h1>
      <p className="hint">
        Deployments the users of this server chose to share. Predictions use your login and are rate-limited.
      </p>
      <div className="filters" role="search" aria-label="Search shared models">
        <label>
          Search
          <input
            type="search"
            value={search}
            onChange={(event) => setSearch(event.target.value)}
            placeholder="name, description or label"
          />
        </label>
        <label>
          Task
          <select value={task} onChange={(event) => setTask(event.target.value as typeof task)}>
            <option value="">any</option>
            <option value="classification">classification</option>
            <option value="multilabel">multi-label classification</option>
            <option value="detection">detection</option>
          </select>
        </label>
      </div>
      <ErrorMessage error={models.error} />
      {models.data?.items.length === 0 && (
        <p className="hint">
          {q
            ? `No shared model matches “${q}”.`
            : 'No shared model yet. To share one of yours: its project’s Deploy tab, “Prediction store and sharing” under the deployment.'}
        </p>
      )}
      {models.data?.items.map((model) => (
        <SharedModelCard key={model.id} model={model} />
      ))}
    </main>
  );
}

function SharedModelCard({ model }: { model: SharedModel }) {
  const metrics = model.metrics;
  const [photo, setPhoto] = useState<string | null>(null);
  const tryIt = useMutation({
    mutationFn: async (file: File) => {
      setPhoto(await readAsDataUrl(file));
      const response = await fetch(`/v1/shared-models/${model.id}/predict`, {
        method: 'POST',
        headers: { ...getSessionHeaders(), 'Content-Type': photoContentType(file) },
        body: file,
      });
      const body = await response.json().catch(() => undefined);
      if (!response.ok) throw toApiError(response, body);
      return (body as { predictions: Prediction[] }).predictions;
    },
  });
  return (
    <article className="card" aria-label={`Shared model ${model.name}`}>
      <h2>
        {model.name} <span className="badge">{model.task}</span>
      </h2>
      {model.description && <p>{model.description}</p>}
      <p className="hint">
        Labels: {model.labels.join(', ')} ·{' '}
        {model.task === 'multilabel' && typeof metrics?.precision === 'number'
          ? `precision ${percent(metrics.precision)}, recall ${percent(metrics.recall)} at 50%`
          : typeof (metrics?.map50 ?? metrics?.accuracy) === 'number'
            ? model.task === 'detection'
              ? `mAP@50 ${percent(metrics?.map50)}`
              : `accuracy ${percent(metrics?.accuracy)}`
            : 'no validation metrics'}{' '}
        · shared {new Date(model.sharedAt).toLocaleDateString()}
      </p>
      <label>
        Try it on a photo
        <input
          type="file"
          accept="image/*"
          onChange={(event) => event.target.files?.[0] && tryIt.mutate(event.target.files[0])}
        />
      </label>
      <ErrorMessage error={tryIt.error} />
      {photo && tryIt.data && (
        <div className="prediction">
          <img src={photo} alt="The photo you tried" className="tried-photo" />
          {tryIt.data.length === 0 && <p>Nothing found above the model's threshold.</p>}
          <ol aria-label={`Predictions of ${model.name}`}>
            {tryIt.data.slice(0, 5).map((prediction, index) => (
              <li key={index}>
                {prediction.label}: {percent(prediction.probability)}
              </li>
            ))}
          </ol>
        </div>
      )}
    </article>
  );
}
