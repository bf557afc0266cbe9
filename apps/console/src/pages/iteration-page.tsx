import { useQuery } from '@tanstack/react-query';
import { useDeferredValue, useState } from 'react';
import { api, getSessionHeaders, type Iteration, type Project, type Schemas, unwrap } from '../api/client';
import { architectureName } from '../components/architectures';
import { formatDuration } from '../components/duration';
import { ErrorMessage } from '../components/error-message';
import { Loading } from '../components/loading';
import {
  DEFAULT_THRESHOLDS,
  mapName,
  type MetricsAtThresholds,
  type MetricThresholds,
  useIterationMetrics,
} from '../components/metric-thresholds';
import { IterationSettings } from '../components/iteration-settings';
import { IterationTools } from '../components/iteration-tools';
import { ScoreCells, ScoreHeaders } from '../components/label-scores';
import { PrecisionRecallCurves } from '../components/precision-recall';
import { QuickTest } from '../components/quick-test';
import { TestRuns } from '../components/test-runs';
import { ThresholdSlider } from '../components/threshold-slider';
import { type ValidationFilter, ValidationImages } from '../components/validation-images';
import { Link } from '../router';
import { Curves, LiveIteration } from './train-page';
import { percent } from '../components/percent';
import { plural } from '../components/plural';

export function IterationPage({ project, iterationId }: { project: Project; iterationId: string }) {
  const iteration = useQuery({
    queryKey: ['iteration', project.id, iterationId],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/projects/{projectId}/iterations/{iterationId}', {
          params: { path: { projectId: project.id, iterationId } },
        }),
      ),
  });
  const [thresholds, setThresholds] = useState<MetricThresholds>(DEFAULT_THRESHOLDS[project.type]);
  const deferred = useDeferredValue(thresholds);
  const [shown, setShown] = useState<Omit<ValidationFilter, 'threshold'> | null>(null);
  const completed = iteration.data?.status === 'completed';
  // An imported model was validated elsewhere: it has no validation metrics here.
  const validated = completed && !iteration.data?.imported;
  const metrics = useIterationMetrics(project.id, iterationId, deferred, validated);
  if (iteration.error) return <ErrorMessage error={iteration.error} />;
  if (!iteration.data) return <Loading what="the iteration" />;
  const data = iteration.data;
  if (!['completed', 'failed', 'cancelled'].includes(data.status))
    return <LiveIteration project={project} iteration={data} />;
  return (
    <section className="iteration">
      <h2>
        {data.name} <span className="badge">{data.status}</span>
      </h2>
      {data.importedModel ? (
        <ImportedModelFacts iteration={data} importedModel={data.importedModel} />
      ) : (
        <TrainingFacts project={project} iteration={data} />
      )}
      {data.status === 'failed' && <ErrorMessage error={new Error(data.error?.reason ?? 'Training failed.')} />}
      {completed && (
        <div className="toolbar">
          <button type="button" onClick={() => downloadModel(project.id, iterationId, data.number)}>
            Download model (.zip)
          </button>
          <Link href={`/projects/${project.id}/deploy?iteration=${iterationId}`} className="button primary">
            Deploy this iteration
          </Link>
        </div>
      )}
      {completed && <QuickTest project={project} iterationId={iterationId} />}
      {data.history.length > 0 && (
        <Curves iteration={data} task={project.type} overlapThreshold={deferred.overlapThreshold} />
      )}
      {/* An imported model's facts above already say it has no curves. */}
      {data.history.length === 0 && !data.imported && (
        <p className="hint">No training curves: no epoch was recorded.</p>
      )}
      {completed && (
        <>
          <h3>Validation metrics</h3>
          {!validated && (
            <p className="hint">
              This model was imported: it has no validation metrics here. Test it on labeled photos below.
            </p>
          )}
          {validated && <ThresholdSliders project={project} thresholds={thresholds} onChange={setThresholds} />}
          <ErrorMessage error={metrics.error} />
          {metrics.data && <MetricsView metrics={metrics.data} project={project} onShow={setShown} />}
          {shown && (
            <ValidationImages
              project={project}
              iterationId={iterationId}
              filter={{ ...shown, threshold: deferred.threshold }}
              onClose={() => setShown(null)}
            />
          )}
          {metrics.data && (
            <>
              <h3>Precision and recall</h3>
              <PrecisionRecallCurves
                project={project}
                iterationId={iterationId}
                overlapThreshold={deferred.overlapThreshold}
              />
            </>
          )}
          <TestRuns project={project} iterationId={iterationId} />
          <IterationTools project={project} iteration={data} />
        </>
      )}
      <IterationSettings key={data.name} project={project} iteration={data} />
    </section>
  );
}

const IMPORT_FORMATS: Record<Schemas['ImportedModelDto']['format'], string> = {
  diyml: 'a diyml model export (.zip)',
  'teachable-machine': 'a Teachable Machine export (.zip)',
  'tfjs-layers': 'a TensorFlow.js layers model (.zip)',
  'keras-h5': 'a Keras 2 model (.h5)',
  keras: 'a Keras 3 model (.keras)',
};

/** How this iteration was trained, each value named: what it ran, on what, with which seed and for how long. */
function TrainingFacts({ project, iteration }: { project: Project; iteration: Iteration }) {
  return (
    <dl className="facts" aria-label="Training run">
      {iteration.reproducedFrom && (
        <Reproduces project={project} originalId={iteration.reproducedFrom} iteration={iteration} />
      )}
      <div>
        <dt>Model type</dt>
        <dd>{architectureName(iteration.architecture)}</dd>
      </div>
      <div>
        {/* Once completed, how the dataset was shared: what the model learned from, what its metrics were measured on. */}
        <dt>Images</dt>
        <dd>
          {iteration.imageCount}
          {typeof iteration.trainCount === 'number' && typeof iteration.validationCount === 'number' && (
            <>
              : {iteration.trainCount} trained on, {iteration.validationCount} for validation
            </>
          )}
        </dd>
      </div>
      <div>
        <dt>Seed</dt>
        <dd>{iteration.seed}</dd>
      </div>
      {iteration.backend && (
        <div>
          <dt>TensorFlow.js backend</dt>
          <dd>{iteration.backend}</dd>
        </div>
      )}
      {iteration.durationMs !== undefined && (
        <div>
          <dt>Training time</dt>
          <dd>{formatDuration(iteration.durationMs)}</dd>
        </div>
      )}
      {iteration.completedAt && (
        <div>
          <dt>{iteration.status === 'completed' ? 'Finished' : 'Stopped'}</dt>
          <dd>{new Date(iteration.completedAt).toLocaleString()}</dd>
        </div>
      )}
    </dl>
  );
}

/** Which iteration a reproduction repeats (a link to it) and, once done, whether it gave the same model and metrics. */
function Reproduces({
  project,
  originalId,
  iteration,
}: {
  project: Project;
  originalId: string;
  iteration: Iteration;
}) {
  const original = useQuery({
    queryKey: ['iteration', project.id, originalId],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/projects/{projectId}/iterations/{iterationId}', {
          params: { path: { projectId: project.id, iterationId: originalId } },
        }),
      ),
  });
  const outcome = iteration.reproduction;
  return (
    <div>
      <dt>Reproduces</dt>
      <dd>
        <Link href={`/projects/${project.id}/iterations/${originalId}`}>{original.data?.name ?? 'the original'}</Link>
        {outcome &&
          `: ${outcome.sameModel ? 'the same model' : 'a different model'}, ${outcome.sameMetrics ? 'the same metrics' : 'different metrics'}`}
      </dd>
    </div>
  );
}

/** What is known of a model trained elsewhere: what it came as, when, its classes; no training facts. */
function ImportedModelFacts({
  iteration,
  importedModel,
}: {
  iteration: Iteration;
  importedModel: Schemas['ImportedModelDto'];
}) {
  return (
    <>
      <p className="hint">Imported model: trained elsewhere, so it has no training images, seed or curves here.</p>
      <dl className="facts" aria-label="Imported model">
        <div>
          <dt>Imported from</dt>
          <dd>{IMPORT_FORMATS[importedModel.format]}</dd>
        </div>
        <div>
          <dt>Imported on</dt>
          <dd>{new Date(iteration.completedAt ?? iteration.queuedAt).toLocaleString()}</dd>
        </div>
        <div>
          <dt>Classes</dt>
          <dd>{importedModel.labels.join(', ')}</dd>
        </div>
        {/* A foreign model names no diyml architecture ('imported'). */}
        {importedModel.format === 'diyml' && (
          <div>
            <dt>Architecture (from its metadata)</dt>
            <dd>{iteration.architecture}</dd>
          </div>
        )}
      </dl>
    </>
  );
}

/**
 * Custom Vision's Performance sliders: the probability from which a prediction counts and, for boxes, the overlap
 * from which one matches; each says in a sentence what it means.
 */
function ThresholdSliders({
  project,
  thresholds,
  onChange,
}: {
  project: Project;
  thresholds: MetricThresholds;
  onChange: (thresholds: MetricThresholds) => void;
}) {
  const { threshold, overlapThreshold } = thresholds;
  return (
    <div className="thresholds">
      {/* A box's probability, as its caption and the try-it's minimum call it: one word for both project types. */}
      <ThresholdSlider
        label="Probability threshold: "
        value={threshold}
        onChange={(value) => onChange({ ...thresholds, threshold: value })}
        hint={
          project.type === 'detection'
            ? 'A found box counts only from this probability; those below it are left out.'
            : project.type === 'multilabel'
              ? 'Each label has its own probability: an image is given every label from this probability, and none below it.'
              : 'A label counts as predicted only from this probability; an image whose best label is below it counts as “below threshold”.'
        }
      />
      {overlapThreshold !== undefined && (
        <ThresholdSlider
          label="Overlap threshold: "
          value={overlapThreshold}
          min={0.05}
          max={0.95}
          onChange={(value) => onChange({ ...thresholds, overlapThreshold: value })}
          hint="A found box matches a labeled box of its label when they overlap (IoU) by at least this much."
        />
      )}
    </div>
  );
}

type ShowImages = (filter: Omit<ValidationFilter, 'threshold'>) => void;

function MetricsView({
  metrics,
  project,
  onShow,
}: {
  metrics: MetricsAtThresholds;
  project: Project;
  onShow: ShowImages;
}) {
  const labelId = (name: string) => project.labels.find((label) => label.name === name)?.id ?? name;
  const apColumn = metrics.task === 'detection' ? `AP@${Math.round(metrics.overlapThreshold * 100)}` : 'AP';
  return (
    <>
      <dl className="summary">
        {metrics.task === 'classification' && (
          <div>
            <dt>Accuracy</dt>
            <dd>{percent(metrics.accuracy)}</dd>
          </div>
        )}
        <div>
          <dt>Precision</dt>
          <dd>{percent(metrics.precision)}</dd>
        </div>
        <div>
          <dt>Recall</dt>
          <dd>{percent(metrics.recall)}</dd>
        </div>
        <div>
          <dt>F1</dt>
          <dd>{percent(metrics.f1)}</dd>
        </div>
        {metrics.task === 'classification' && (
          <div>
            <dt>mAP</dt>
            <dd>{percent(metrics.map)}</dd>
          </div>
        )}
        {metrics.task === 'multilabel' && (
          <>
            <div>
              <dt>mAP</dt>
              <dd>{percent(metrics.map)}</dd>
            </div>
            <div>
              <dt>Exact match</dt>
              <dd>{percent(metrics.exactMatch)}</dd>
            </div>
          </>
        )}
        {/* Custom Vision's mAP: at the overlap threshold, named as mAP@50 is at IoU 0.5. */}
        {metrics.task === 'detection' && (
          <div>
            <dt>{mapName(metrics.overlapThreshold)}</dt>
            <dd>{percent(metrics.mapAtOverlapThreshold)}</dd>
          </div>
        )}
      </dl>
      {metrics.task === 'multilabel' && (
        <p className="hint">
          Precision: of the images given a label at the threshold, the share that carry it. Recall: of the images that
          carry it, the share given it. AP ranks the images by the label’s probability, whatever the threshold. Exact
          match: images given exactly their labels.
        </p>
      )}
      {metrics.task === 'classification' && (
        <p className="hint">
          AP ranks the validation images by the label’s probability, whatever the threshold: 100% when every image of
          the label comes before the others. mAP: the mean AP of the labels that have validation images.
        </p>
      )}
      <table aria-label="Metrics per label" className="stacked">
        <thead>
          <tr>
            <th scope="col">Label</th>
            <ScoreHeaders apColumn={apColumn} />
            <th scope="col">Examples</th>
            <th scope="col">Validation images</th>
          </tr>
        </thead>
        <tbody>
          {metrics.perLabel.map((row) => (
            <tr key={row.label}>
              <th scope="row">{row.label}</th>
              <ScoreCells row={row} apColumn={apColumn} />
              <td data-label="Examples">{row.support}</td>
              <td data-label="Validation images">
                <button
                  type="button"
                  className="link"
                  aria-label={`Show the validation images labeled ${row.label}`}
                  onClick={() => onShow({ label: labelId(row.label), title: `Labeled ${row.label}` })}
                >
                  Show
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {metrics.task === 'classification' && (
        <ConfusionMatrix {...metrics.confusionMatrix} labelId={labelId} onShow={onShow} />
      )}
    </>
  );
}

function ConfusionMatrix({
  labels,
  matrix,
  noPrediction,
  labelId,
  onShow,
}: {
  labels: string[];
  matrix: number[][];
  noPrediction: number[];
  labelId: (name: string) => string;
  onShow: ShowImages;
}) {
  const largest = Math.max(1, ...matrix.flat());
  const cell = (count: number, expected: string, predicted: string | null) => {
    const title = predicted === null ? `${expected} predicted as nothing` : `${expected} predicted as ${predicted}`;
    return (
      <button
        type="button"
        className="cell-button"
        aria-label={`${plural(count, 'image')} of ${title}: show them`}
        onClick={() =>
          onShow({ label: labelId(expected), predicted: predicted === null ? 'none' : labelId(predicted), title })
        }
      >
        {count}
      </button>
    );
  };
  return (
    <table className="confusion" aria-label="Confusion matrix: rows are the true labels, columns the predicted ones">
      <caption>Confusion matrix (rows: true label, columns: predicted). Click a number to see those images.</caption>
      <thead>
        <tr>
          <td />
          {labels.map((label) => (
            <th key={label} scope="col">
              {label}
            </th>
          ))}
          <th scope="col">below threshold</th>
        </tr>
      </thead>
      <tbody>
        {matrix.map((row, expected) => (
          <tr key={labels[expected]}>
            <th scope="row">{labels[expected]}</th>
            {row.map((count, predicted) => {
              const strength = count / largest;
              const tone = expected === predicted ? 'hit' : 'miss';
              return (
                <td key={predicted} className={`heat ${tone}`} data-level={Math.ceil(strength * 4)}>
                  {cell(count, labels[expected], labels[predicted])}
                </td>
              );
            })}
            <td>{cell(noPrediction[expected], labels[expected], null)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

async function downloadModel(projectId: string, iterationId: string, number: number) {
  const response = await fetch(`/v1/projects/${projectId}/iterations/${iterationId}/model`, {
    headers: getSessionHeaders(),
  });
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = `iteration-${number}-model.zip`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
