import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import {
  api,
  ApiError,
  type BatchProgress,
  type Iteration,
  type PreparationProgress,
  type Project,
  type Schemas,
  unwrap,
} from '../api/client';
import { followIteration } from '../api/iteration-stream';
import { formatDuration } from '../components/duration';
import { useOpenApiSchemas } from '../components/config-form';
import { architectureName } from '../components/architectures';
import { ErrorMessage } from '../components/error-message';
import { trainingTimeLeft } from '../components/training-time-left';
import { LineChart } from '../components/line-chart';
import { Link } from '../router';
import { Loading } from '../components/loading';
import { issueLink } from '../components/issue-link';
import { ImportModel } from '../components/model-import';
import { applicableSettings, TrainingSettings, useAutomaticChoice } from '../components/training-settings';
import { percent } from '../components/percent';
import { plural } from '../components/plural';
import {
  DEFAULT_THRESHOLDS,
  EPOCH_OVERLAP_THRESHOLD,
  mapName,
  thresholdPercent,
  useIterationMetrics,
} from '../components/metric-thresholds';

const FINISHED = ['completed', 'failed', 'cancelled'];

export function TrainPage({ project }: { project: Project }) {
  const queryClient = useQueryClient();
  const schemas = useOpenApiSchemas();
  const [config, setConfig] = useState<Record<string, unknown>>(
    project.trainingConfig as unknown as Record<string, unknown>,
  );
  const iterations = useQuery({
    queryKey: ['iterations', project.id],
    queryFn: async () =>
      unwrap(await api.GET('/v1/projects/{projectId}/iterations', { params: { path: { projectId: project.id } } })),
  });
  const automatic = useAutomaticChoice(project, config.architecture);
  // Shared with the analysis page, and fetched again on each visit: what was fixed since shows at once.
  const analysis = useQuery({
    queryKey: ['analysis', project.id],
    queryFn: async () =>
      unwrap(await api.GET('/v1/projects/{projectId}/analysis', { params: { path: { projectId: project.id } } })),
  });
  const problems = analysis.data?.ready === false ? analysis.data.problems : [];
  const headlineName =
    project.type === 'detection'
      ? mapName(DEFAULT_THRESHOLDS.detection.overlapThreshold)
      : project.type === 'multilabel'
        ? 'mAP'
        : 'Accuracy';
  const start = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/projects/{projectId}/iterations', {
          params: { path: { projectId: project.id } },
          body: { trainingConfig: withoutEmpty(applicableSettings(config, project.type, automatic)) },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['iterations', project.id] }),
  });
  // A value out of its range is named beside its field as it is typed; Start then goes to the first one instead of
  // sending what the API would refuse in its own words.
  const [outOfRange, setOutOfRange] = useState(false);
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const invalid = event.currentTarget.querySelector<HTMLElement>('[aria-invalid="true"]');
    setOutOfRange(invalid !== null);
    if (invalid) {
      invalid.closest('details')?.setAttribute('open', '');
      invalid.focus();
      return;
    }
    start.mutate();
  };
  const live = iterations.data?.items.find((iteration) => !FINISHED.includes(iteration.status));
  // The run this page showed live, so that once it ends the page says how, instead of only showing the form again.
  const [followed, setFollowed] = useState<string | null>(null);
  if (live && live.id !== followed) setFollowed(live.id);
  const ended = live ? undefined : iterations.data?.items.find((iteration) => iteration.id === followed);
  return (
    <section className="train">
      {ended && <RunEnded project={project} iteration={ended} />}
      {live ? (
        <LiveIteration key={live.id} project={project} iteration={live} />
      ) : (
        <form onSubmit={onSubmit} noValidate className="card config-form" aria-label="Training configuration">
          <h2>Train a new iteration</h2>
          <p className="hint">The values start as the project's settings; changes apply to this run only.</p>
          {problems.length > 0 && <NotReady project={project} problems={problems} />}
          {schemas.isPending && <Loading what="the training settings" />}
          {schemas.data && (
            <TrainingSettings
              project={project}
              schemas={schemas.data}
              iterations={iterations.data?.items.filter((iteration) => iteration.status === 'completed') ?? []}
              automatic={automatic}
              values={config}
              onChange={setConfig}
            />
          )}
          {outOfRange && (
            <p className="error" role="alert">
              A setting is out of its range: fix the values marked in red, then start again.
            </p>
          )}
          {start.error ? <StartError project={project} error={start.error} /> : <ErrorMessage error={schemas.error} />}
          <button
            type="submit"
            className="primary"
            disabled={start.isPending || problems.length > 0}
            aria-describedby={problems.length > 0 ? 'training-not-ready' : undefined}
          >
            Start training
          </button>
          {problems.length > 0 && <span className="hint"> Fix the dataset first (see the top of this form).</span>}
        </form>
      )}
      <h2>Iterations</h2>
      <ErrorMessage error={iterations.error} />
      {iterations.isPending && <Loading what="the iterations" />}
      {iterations.data?.items.length === 0 && (
        <p className="hint">No iterations yet: start one above once the dataset is ready.</p>
      )}
      {iterations.data && iterations.data.items.length > 0 && (
        <table aria-label="Iterations" aria-describedby="iteration-scores-thresholds" className="stacked four-columns">
          <thead>
            <tr>
              <th scope="col">Iteration</th>
              <th scope="col">Status</th>
              <th scope="col">Model type</th>
              <th scope="col">Images</th>
              {/* Custom Vision's Performance list: each run's scores side by side, to pick the one to deploy. */}
              <th scope="col">Precision</th>
              <th scope="col">Recall</th>
              <th scope="col">{headlineName}</th>
              <th scope="col">Queued</th>
              <th scope="col">Training time</th>
            </tr>
          </thead>
          <tbody>
            {/* On a phone each iteration is a card: its name, then its status and scores, then the rest. */}
            {iterations.data.items.map((iteration) => (
              <tr key={iteration.id}>
                <td className="row-name">
                  <Link href={`/projects/${project.id}/iterations/${iteration.id}`}>{iteration.name}</Link>
                </td>
                <td data-label="Status">{iteration.status}</td>
                <td data-label="Model type" className="secondary">
                  {architectureName(iteration.architecture)}
                </td>
                <td data-label="Images" className="secondary">
                  {iteration.imported ? 'none (imported)' : iteration.imageCount}
                </td>
                <IterationScores project={project} iteration={iteration} headlineName={headlineName} />
                <td data-label="Queued" className="secondary">
                  {new Date(iteration.queuedAt).toLocaleString()}
                </td>
                {/* From its start to its end (an imported model, or one not yet ended, has none). */}
                <td data-label="Training time" className="secondary">
                  {iteration.durationMs === undefined ? '–' : formatDuration(iteration.durationMs)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {iterations.data && iterations.data.items.length > 0 && (
        <p className="hint" id="iteration-scores-thresholds">
          Scores on the validation images at a {thresholdPercent(DEFAULT_THRESHOLDS[project.type].threshold)}{' '}
          probability threshold
          {project.type === 'detection' &&
            ` and a ${thresholdPercent(DEFAULT_THRESHOLDS.detection.overlapThreshold)} overlap threshold`}
          , as each iteration's page opens with.
        </p>
      )}
      <ImportModel project={project} />
    </section>
  );
}

/**
 * An iteration's validation scores at the iteration page's default thresholds, so the list and the page agree (the
 * iteration's own metrics are training's, at argmax); dashes while it has none (running, imported, no validation).
 */
function IterationScores({
  project,
  iteration,
  headlineName,
}: {
  project: Project;
  iteration: Iteration;
  headlineName: string;
}) {
  const scores = useIterationMetrics(
    project.id,
    iteration.id,
    DEFAULT_THRESHOLDS[project.type],
    iteration.metrics !== undefined,
  );
  const metrics = scores.data;
  const headline =
    metrics &&
    (metrics.task === 'detection'
      ? metrics.mapAtOverlapThreshold
      : metrics.task === 'multilabel'
        ? metrics.map
        : metrics.accuracy);
  return (
    <>
      <td data-label="Precision">{percent(metrics?.precision)}</td>
      <td data-label="Recall">{percent(metrics?.recall)}</td>
      <td data-label={headlineName}>{percent(headline)}</td>
    </>
  );
}

/** How the run followed live on this page ended, and where to go from there. */
function RunEnded({ project, iteration }: { project: Project; iteration: Iteration }) {
  return (
    <div className={`card run-ended ${iteration.status}`} role="status">
      <h2>
        {iteration.name} {iteration.status}
      </h2>
      {iteration.status === 'failed' && <p>{iteration.error?.reason ?? 'Training failed.'}</p>}
      <p>
        <Link href={`/projects/${project.id}/iterations/${iteration.id}`}>
          {iteration.status === 'completed' ? 'See its metrics, test it and deploy it' : 'See how far it went'}
        </Link>
      </p>
    </div>
  );
}

/** What keeps the dataset from training, known before Start is clicked, each with the way to the images to fix. */
function NotReady({ project, problems }: { project: Project; problems: Schemas['IssueDto'][] }) {
  return (
    <div id="training-not-ready" className="error">
      <p>Training cannot start yet:</p>
      <ul aria-label="What to fix before training">
        {problems.map((problem) => (
          <li key={problem.message}>
            {problem.message} <Link href={issueLink(project.id, problem)}>Fix it in the dataset</Link>
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * Why a run was refused. A dataset not ready lists each of its problems (the error's details) on a line of its own,
 * with the analysis that shows the images concerned.
 */
function StartError({ project, error }: { project: Project; error: unknown }) {
  const problems =
    error instanceof ApiError && error.code === 'DATASET_NOT_READY'
      ? ((error.details as { problems?: { message: string }[] } | undefined)?.problems ?? [])
      : [];
  if (problems.length === 0) return <ErrorMessage error={error} />;
  return (
    <div className="error" role="alert">
      <p>The dataset is not ready for training:</p>
      <ul>
        {problems.map((problem) => (
          <li key={problem.message}>{problem.message}</li>
        ))}
      </ul>
      <p>
        <Link href={`/projects/${project.id}/analysis`}>The analysis</Link> shows the images concerned.
      </p>
    </div>
  );
}

/** Drops empty fields so the server's defaults apply to them. */
function withoutEmpty(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined && value !== ''));
}

/** Progress as the server streams it: epochs, curves drawn as they arrive, time left. */
export function LiveIteration({ project, iteration: initial }: { project: Project; iteration: Iteration }) {
  const queryClient = useQueryClient();
  const [iteration, setIteration] = useState(initial);
  const [batch, setBatch] = useState<BatchProgress | null>(null);
  const [preparation, setPreparation] = useState<PreparationProgress | null>(null);
  const [streamError, setStreamError] = useState<unknown>(null);
  useEffect(() => {
    const abort = new AbortController();
    const onIteration = (next: Iteration) => {
      setIteration(next);
      // The iterations table lists it too: queued there while this card says running would contradict it. Its end
      // is left to the invalidation below, which also refreshes the iteration's own page.
      if (!FINISHED.includes(next.status))
        queryClient.setQueryData<{ items: Iteration[] }>(
          ['iterations', project.id],
          (list) => list && { ...list, items: list.items.map((item) => (item.id === next.id ? next : item)) },
        );
    };
    followIteration(
      `/v1/projects/${project.id}/iterations/${initial.id}/events`,
      { onIteration, onPreparation: setPreparation, onBatch: setBatch },
      abort.signal,
    )
      .then(() =>
        Promise.all([
          queryClient.invalidateQueries({ queryKey: ['iterations', project.id] }),
          queryClient.invalidateQueries({ queryKey: ['iteration', project.id, initial.id] }),
        ]),
      )
      .catch((error: unknown) => {
        if (!abort.signal.aborted) setStreamError(error);
      });
    return () => abort.abort();
  }, [project.id, initial.id, queryClient]);
  const cancel = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/projects/{projectId}/iterations/{iterationId}/cancel', {
          params: { path: { projectId: project.id, iterationId: initial.id } },
        }),
      ),
  });
  return (
    <div className="card" aria-live="polite">
      <h2>
        {iteration.name}: {iteration.status}
      </h2>
      {!batch && iteration.history.length === 0 && !FINISHED.includes(iteration.status) && preparation && (
        <Preparation progress={preparation} />
      )}
      <Progress iteration={iteration} batch={batch} />
      {/* Empty axes until then would look like a chart that failed to load. */}
      {iteration.history.length > 0 ? (
        <Curves iteration={iteration} task={project.type} />
      ) : (
        <p className="hint">The training curves appear once the first epoch ends.</p>
      )}
      {!FINISHED.includes(iteration.status) && (
        <button type="button" className="danger" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
          Cancel training
        </button>
      )}
      <ErrorMessage error={streamError ?? cancel.error} />
    </div>
  );
}

const PHASES: Record<PreparationProgress['phase'], { title: string; unit: string }> = {
  reading: { title: 'Reading photos', unit: 'photos' },
  decoding: { title: 'Decoding photos', unit: 'photos' },
  embedding: { title: 'Computing features', unit: 'photo views' },
  'feature-maps': { title: 'Computing features', unit: 'photo views' },
};

/** What the run does before its first epoch (features of thousands of photos take minutes), with time left. */
function Preparation({ progress }: { progress: PreparationProgress }) {
  const { title, unit } = PHASES[progress.phase];
  const left = progress.perSecond > 0 ? ((progress.total - progress.done) / progress.perSecond) * 1000 : null;
  return (
    <p className="training-preparation">
      <progress max={progress.total || 1} value={progress.total ? progress.done : 1} aria-label={title} /> {title}:{' '}
      {progress.done} of {progress.total} {unit}
      {progress.perSecond > 0 && (
        <>
          {' '}
          · {Math.round(progress.perSecond)} {unit}/s
        </>
      )}
      {left !== null && progress.done < progress.total && <> · about {roughDuration(left)} left</>}
      {progress.cached > 0 && <> · {progress.cached} reused from earlier runs</>}
    </p>
  );
}

function Progress({ iteration, batch: latest }: { iteration: Iteration; batch: BatchProgress | null }) {
  const { epoch, epochs } = iteration.progress;
  const running = iteration.status === 'running';
  // Batches of an epoch already recorded are no news; nor are they once the run stopped.
  const batch = running && latest && latest.epoch > epoch ? latest : null;
  const left = trainingTimeLeft({
    epochs,
    epochDurationsMs: iteration.history.map((item) => item.durationMs),
    batch,
  });
  return (
    <div className="training-progress">
      <p>
        <progress
          max={epochs || 1}
          value={batch ? batch.epoch - 1 + batch.batch / batch.batches : epoch}
          aria-label="Training progress"
        />{' '}
        {epoch} of {epochs} epochs done
        {running && batch && left === null && <> · time left: estimated once the first epoch ends</>}
        {/* Past the last batch the run still validates and saves its model: not 'about 0 s left'. */}
        {running && left !== null && (left >= 1000 ? <> · about {roughDuration(left)} left</> : <> · finishing</>)}
      </p>
      {batch && (
        <p>
          <progress max={batch.batches} value={batch.batch} aria-label={`Progress within epoch ${batch.epoch}`} /> step{' '}
          {batch.batch} of {batch.batches} in epoch {batch.epoch}
          {stepSize(iteration, batch)} · {Math.round(batch.imagesPerSecond)} images/s
          {batch.batch === batch.batches && ' · finishing the epoch'}
        </p>
      )}
    </div>
  );
}

/**
 * What a step is: the count is of optimiser steps, not photos. A small dataset is gone through several times an
 * epoch (an epoch takes at least some number of steps), which "50 of 50" for 16 photos left unexplained. The run's
 * own numbers come with the event; a worker of an older release sends none, and then the configuration says it.
 */
function stepSize(iteration: Iteration, batch: BatchProgress): string {
  const batchSize = batch.batchSize ?? iteration.trainingConfig?.batchSize;
  if (!batchSize) return '';
  const learns = ` · each step learns from ${plural(batchSize, 'photo')}`;
  const trainingImages = batch.trainingImages ?? iteration.imageCount;
  // The last step of a pass may take fewer: more steps than one pass needs is what repeats photos.
  const repeated = trainingImages !== null && batch.batches > Math.ceil(trainingImages / batchSize);
  return (repeated ? `${learns}, so each photo comes back several times an epoch` : learns) + runSize(batch);
}

/** The split the run trains and validates on, as its worker reported it ('' when it did not). */
function runSize({ trainingImages, validationImages }: BatchProgress): string {
  if (trainingImages === null || validationImages === null) return '';
  const training = trainingImages.toLocaleString('en-US');
  if (validationImages === 0)
    return ` · ${training} training ${trainingImages === 1 ? 'photo' : 'photos'}, none kept for validation`;
  return ` · ${training} training / ${validationImages.toLocaleString('en-US')} validation photos`;
}

/**
 * The training curves. `overlapThreshold` is the one the iteration's mAP is shown at (the iteration page's slider),
 * so the line under the charts names the figure the page shows.
 */
export function Curves({
  iteration,
  task,
  overlapThreshold = DEFAULT_THRESHOLDS.detection.overlapThreshold,
}: {
  iteration: Iteration;
  task: Project['type'];
  overlapThreshold?: number;
}) {
  const epochs = iteration.history.map((item) => item.epoch);
  const validation = iteration.history.map((item) => item.valAccuracy ?? null);
  return (
    <>
      <div className="charts">
        <LineChart
          title="Loss"
          x={epochs}
          series={[
            { label: 'training', values: iteration.history.map((item) => item.loss), colour: '#2563eb' },
            { label: 'validation', values: iteration.history.map((item) => item.valLoss ?? null), colour: '#dc2626' },
          ]}
        />
        {/* A detector has no training accuracy: its epochs record the validation mAP@0.5 (a multilabel model's, mAP). */}
        {task !== 'classification' ? (
          <LineChart
            title={task === 'detection' ? `Validation ${mapName(EPOCH_OVERLAP_THRESHOLD)}` : 'Validation mAP'}
            percent
            x={epochs}
            series={[{ label: 'validation', values: validation, colour: '#dc2626' }]}
          />
        ) : (
          <LineChart
            title="Accuracy"
            percent
            x={epochs}
            series={[
              { label: 'training', values: iteration.history.map((item) => item.accuracy ?? null), colour: '#2563eb' },
              { label: 'validation', values: validation, colour: '#dc2626' },
            ]}
          />
        )}
      </div>
      {task === 'detection' && (
        <p className="hint">
          Each epoch’s {mapName(EPOCH_OVERLAP_THRESHOLD)} counts a found box from{' '}
          {thresholdPercent(EPOCH_OVERLAP_THRESHOLD)} overlap, as training measures it; the iteration’s{' '}
          {mapName(overlapThreshold)} counts it from {thresholdPercent(overlapThreshold)}
          {overlapSource(overlapThreshold)}
        </p>
      )}
    </>
  );
}

/** Where the iteration's overlap comes from, and whether its mAP can be read against the epochs'. */
function overlapSource(overlapThreshold: number): string {
  if (overlapThreshold === EPOCH_OVERLAP_THRESHOLD) return ' too, as the overlap threshold below is set.';
  if (overlapThreshold === DEFAULT_THRESHOLDS.detection.overlapThreshold)
    return ', Custom Vision’s default, so the two figures differ.';
  return ', as the overlap threshold below is set, so the two figures differ.';
}

/** An estimate, so whole minutes past 90 s ('about 3 min left'); a measured time uses formatDuration. */
function roughDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 90 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}
