import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type CSSProperties, type FormEvent, useRef, useState } from 'react';
import { api, ApiError, getSessionHeaders, type Project, type Schemas, toApiError, unwrap } from '../api/client';
import { isZip } from '../api/upload';
import { Link } from '../router';
import { AuthenticatedImage } from './authenticated-image';
import { BoxesOverlay, type DrawnBox } from './boxes-overlay';
import { BoxLegend } from './label-colours';
import { ScoreCells, ScoreHeaders } from './label-scores';
import { ErrorMessage } from './error-message';
import { percent } from './percent';
import { plural } from './plural';
import { RadioGroup, type RadioOption } from './radio-group';

type TestRun = Schemas['TestRunDto'];
type TestPrediction = Schemas['TestPredictionDto'];
type RequestedTestRun = Schemas['RequestedTestRunDto'];
type TestAnnotationIssue = Schemas['TestAnnotationIssueDto'];

/** The API reads at most 64 KiB of a test set's COCO file: said before sending, with what to do about it. */
const COCO_MAX_CHARACTERS = 64 * 1024;

/** Test the iteration on the project's test split or on uploaded labeled photos; each run's scores and the images it got wrong. */
export function TestRuns({ project, iterationId }: { project: Project; iterationId: string }) {
  const queryClient = useQueryClient();
  const path = { projectId: project.id, iterationId };
  const [openRun, setOpenRun] = useState<string | null>(null);
  const runs = useQuery({
    queryKey: ['test-runs', project.id, iterationId],
    queryFn: async () =>
      unwrap(await api.GET('/v1/projects/{projectId}/iterations/{iterationId}/test-runs', { params: { path } })),
    refetchInterval: (query) => (query.state.data?.items.some((run) => run.status === 'requested') ? 1000 : false),
  });
  const opened = async (run: TestRun) => {
    setOpenRun(run.id);
    await queryClient.invalidateQueries({ queryKey: ['test-runs', project.id, iterationId] });
  };
  const request = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/projects/{projectId}/iterations/{iterationId}/test-runs', {
          params: { path },
          body: { split: 'test' },
        }),
      ),
    onSuccess: opened,
    // Refused: the test split is counted again, for the reason to stay beside the button once the alert is gone.
    onError: (error) =>
      error instanceof ApiError && error.code === 'NO_TEST_IMAGES' ? labeledTestImages.refetch() : undefined,
  });
  // Counted before the click: beside the button, why a test on an empty split cannot run and how to fill it. The
  // button stays enabled, as the count may be older than the dataset (photos added by the API since); the API decides.
  const labeledTestImages = useQuery({
    queryKey: ['images', project.id, 'labeled in the test split'],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/projects/{projectId}/images', {
          params: { path: { projectId: project.id }, query: { split: 'test', unlabeled: false, limit: 1 } },
        }),
      ).total,
  });
  const emptyTestSplit = labeledTestImages.data === 0;
  const refused = request.error instanceof ApiError && request.error.code === 'NO_TEST_IMAGES';
  return (
    <div className="card">
      <h3>Test runs</h3>
      <p className="hint">
        Scores on images the model never trained or validated on: the project's test split, or labeled photos from your
        computer.
      </p>
      <button
        type="button"
        onClick={() => request.mutate()}
        disabled={request.isPending}
        aria-describedby={emptyTestSplit || refused ? 'no-test-images' : undefined}
      >
        Test on the test split
      </button>
      {emptyTestSplit || refused ? (
        // The API's words ('upload some with split=test') are for its callers; here, the console's own way there.
        // An alert only once the API refused a click; before it, the button's description.
        <p id="no-test-images" className={refused ? 'error' : 'hint'} role={refused ? 'alert' : undefined}>
          No{' '}
          {project.type === 'detection'
            ? 'photo with boxes of a label of this iteration'
            : 'labeled photo with a label of this iteration'}{' '}
          is in the test split yet. On the <Link href={`/projects/${project.id}/dataset`}>Dataset</Link> tab, select
          some and choose Move to split → Test, or test on labeled photos from your computer below.
        </p>
      ) : (
        <ErrorMessage error={request.error ?? runs.error} />
      )}
      <LabeledTestSet
        project={project}
        iterationId={iterationId}
        onRequested={async (run) => {
          // A run on photos from this computer answers the refused test-split run: its error no longer applies.
          request.reset();
          await opened(run);
        }}
      />
      {runs.data?.items.length === 0 && (
        <p className="hint">No test run yet: test on the test split, or choose labeled photos above.</p>
      )}
      {project.type === 'detection' && !!runs.data?.items.length && (
        <p className="hint" id="test-run-map-hint">
          mAP@50 ranks every box the model proposed, whatever its probability, so it can be high while few boxes reach
          50%; precision, recall and the boxes under each image count only those at ≥ 50%.
        </p>
      )}
      <table aria-label="Test runs" hidden={!runs.data?.items.length} className="stacked">
        <thead>
          <tr>
            <th scope="col">Requested</th>
            <th scope="col">Images from</th>
            <th scope="col">Status</th>
            <th scope="col">Images</th>
            {project.type === 'detection' ? (
              <>
                <th scope="col">Precision / recall at ≥ 50%</th>
                <th scope="col" aria-describedby="test-run-map-hint">
                  mAP@50 (all boxes)
                </th>
              </>
            ) : project.type === 'multilabel' ? (
              <>
                <th scope="col">Precision / recall at ≥ 50%</th>
                <th scope="col">mAP</th>
              </>
            ) : (
              <>
                <th scope="col">Accuracy</th>
                <th scope="col">mAP</th>
              </>
            )}
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {runs.data?.items.map((run) => (
            <tr key={run.id}>
              <td className="row-name">{new Date(run.requestedAt).toLocaleString()}</td>
              <td data-label="Images from" className="secondary">
                {run.source === 'upload' ? 'your computer' : 'the test split'}
              </td>
              <td data-label="Status">{run.status}</td>
              <td data-label="Images" className="secondary">
                {run.imageCount}
              </td>
              {project.type !== 'classification' && (
                <td data-label="Precision / recall">
                  {percent(run.metrics?.precision)} / {percent(run.metrics?.recall)}
                </td>
              )}
              <td
                data-label={
                  project.type === 'detection' ? 'mAP@50' : project.type === 'multilabel' ? 'mAP' : 'Accuracy'
                }
              >
                {percent(headlineOf(run.metrics))}
              </td>
              {project.type === 'classification' && (
                <td data-label="mAP">
                  {percent(run.metrics?.task === 'classification' ? run.metrics.map : undefined)}
                </td>
              )}
              <td className="secondary">
                {run.status === 'completed' && (
                  // Pressed: its predictions are the ones below (several runs each have this button).
                  <button
                    type="button"
                    className="link"
                    aria-pressed={openRun === run.id}
                    aria-label={`Show predictions of the test run of ${new Date(run.requestedAt).toLocaleString()}`}
                    onClick={() => setOpenRun(openRun === run.id ? null : run.id)}
                  >
                    Show predictions
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {openRun && runs.data?.items.find((run) => run.id === openRun)?.status === 'completed' && (
        <TestRunPredictions project={project} iterationId={iterationId} runId={openRun} />
      )}
    </div>
  );
}

function TestRunPredictions({ project, iterationId, runId }: { project: Project; iterationId: string; runId: string }) {
  const run = useQuery({
    queryKey: ['test-run', project.id, iterationId, runId],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/projects/{projectId}/iterations/{iterationId}/test-runs/{testRunId}', {
          params: { path: { projectId: project.id, iterationId, testRunId: runId } },
        }),
      ) as TestRun,
  });
  const [viewed, setViewed] = useState<TestPrediction | null>(null);
  const predictions = run.data?.predictions ?? [];
  const wrong = predictions.filter((prediction) => prediction.correct === false);
  return (
    <div>
      <ErrorMessage error={run.error} />
      <h4>
        {project.type === 'classification'
          ? `${wrong.length} of ${predictions.length} misclassified`
          : project.type === 'multilabel'
            ? `${wrong.length} of ${predictions.length} not given exactly their labels`
            : `${plural(predictions.length, 'image')}, ${describeMatches(totalMatches(predictions))}`}
      </h4>
      {run.data?.metrics?.task === 'classification' && <ClassificationScores metrics={run.data.metrics} />}
      {project.type === 'detection' && (
        <p className="hint">
          Labeled boxes are dashed; boxes the model found (probability ≥ 50%) are solid. A found box matches a labeled
          box of its label it overlaps by at least half (IoU ≥ 0.5); those below 50% count for nothing here.
        </p>
      )}
      {project.type === 'detection' && <BoxLegend labels={predictions.flatMap((prediction) => labelsOf(prediction))} />}
      <ul className="mini-grid predictions" aria-label="Test predictions">
        {(project.type !== 'detection'
          ? [...wrong, ...predictions.filter((prediction) => prediction.correct)]
          : predictions
        ).map((prediction) => (
          <li key={prediction.imageUrl} className={prediction.correct === false ? 'wrong' : ''}>
            <button
              type="button"
              className="thumbnail-button"
              onClick={() => setViewed(prediction)}
              aria-label={`View ${prediction.filename} full size`}
            >
              {project.type === 'detection' ? (
                <BoxesOverlay
                  className="small"
                  expected={boxesOf(prediction.expected)}
                  predicted={boxesOf(prediction.predicted)}
                >
                  <AuthenticatedImage path={`${prediction.imageUrl}/thumbnail?size=128`} alt={prediction.filename} />
                </BoxesOverlay>
              ) : (
                <AuthenticatedImage path={`${prediction.imageUrl}/thumbnail?size=128`} alt={prediction.filename} />
              )}
            </button>
            <span>{prediction.filename}</span>
            <span>{outcome(project, prediction)}</span>
          </li>
        ))}
      </ul>
      {viewed && (
        <figure className="card viewed-test-image" aria-label={`Test image ${viewed.filename}`}>
          <FittedPhoto
            key={viewed.imageUrl}
            path={viewed.imageUrl}
            alt={viewed.filename}
            expected={boxesOf(viewed.expected)}
            predicted={boxesOf(viewed.predicted)}
          />
          <figcaption>
            <strong>{viewed.filename}</strong>: {outcome(project, viewed)}{' '}
            <button type="button" onClick={() => setViewed(null)}>
              Close
            </button>
            <BoxLegend labels={labelsOf(viewed)} />
          </figcaption>
        </figure>
      )}
    </div>
  );
}

/** A classifier's test scores per label, with average precision as the iteration page shows its validation ones. */
function ClassificationScores({ metrics }: { metrics: Schemas['ClassificationMetricsWithApDto'] }) {
  return (
    <>
      <dl className="summary">
        <div>
          <dt>Accuracy</dt>
          <dd>{percent(metrics.accuracy)}</dd>
        </div>
        <div>
          <dt>mAP</dt>
          <dd>{percent(metrics.map)}</dd>
        </div>
      </dl>
      <p className="hint">
        AP ranks the test photos by the label’s probability, whatever the threshold: 100% when every photo of the label
        comes before the others. mAP: the mean AP of the labels that have test photos.
      </p>
      <table aria-label="Test metrics per label" className="stacked">
        <thead>
          <tr>
            <th scope="col">Label</th>
            <ScoreHeaders />
            <th scope="col">Test photos</th>
          </tr>
        </thead>
        <tbody>
          {metrics.perLabel.map((row) => (
            <tr key={row.label}>
              <th scope="row">{row.label}</th>
              <ScoreCells row={row} />
              <td data-label="Test photos">{row.support}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** A photo with its boxes, scaled to fit the screen's width and height whatever its size (a 16-pixel photo too), aspect kept. */
function FittedPhoto({
  path,
  alt,
  expected,
  predicted,
}: {
  path: string;
  alt: string;
  expected: DrawnBox[];
  predicted: DrawnBox[];
}) {
  const [aspect, setAspect] = useState(1);
  return (
    <BoxesOverlay
      className="fitted"
      style={{ '--aspect': aspect } as CSSProperties}
      expected={expected}
      predicted={predicted}
    >
      <AuthenticatedImage
        path={path}
        alt={alt}
        onLoad={(event) => setAspect(event.currentTarget.naturalWidth / event.currentTarget.naturalHeight)}
      />
    </BoxesOverlay>
  );
}

/**
 * Expected against predicted; detection has no right-or-wrong per image (`correct` is absent), so it counts the
 * labeled boxes the boxes found at ≥ 50% matched and missed, and the false ones, as the run's precision and recall do.
 */
function outcome(project: Project, prediction: TestPrediction): string {
  if (project.type === 'multilabel')
    return `expected ${describeLabels(project, prediction.expected)}, predicted ${describeLabels(project, prediction.predicted)} at ≥ 50%`;
  if (project.type === 'classification')
    return `expected ${describe(prediction.expected)}, predicted ${describe(prediction.predicted)} (${percent(prediction.confidence)})`;
  const matches = prediction.boxMatches ? `${describeMatches(prediction.boxMatches)} ` : '';
  return `${matches}(most probable box: ${percent(prediction.confidence)})`;
}

type Matches = Pick<Schemas['BoxMatchesDto'], 'matched' | 'missed' | 'falsePositives'>;

/** '2 labeled, 1 found at ≥ 50%: 1 matched, 1 missed, 0 false', as the validation images count theirs. */
function describeMatches({ matched, missed, falsePositives }: Matches): string {
  return `${matched + missed} labeled, ${matched + falsePositives} found at ≥ 50%: ${matched} matched, ${missed} missed, ${falsePositives} false`;
}

/** The figure a run is judged by: mAP@50 for a detector, mAP for a multilabel model, accuracy for a classifier. */
function headlineOf(metrics: TestRun['metrics']): number | undefined {
  if (!metrics) return undefined;
  return metrics.task === 'detection' ? metrics.map50 : metrics.task === 'multilabel' ? metrics.map : metrics.accuracy;
}

/** A multilabel test photo's label names, listed in the project's order. */
function describeLabels(project: Project, value: unknown): string {
  const names = Array.isArray(value) ? value.filter((name): name is string => typeof name === 'string') : [];
  const rank = (name: string) => project.labels.findIndex((label) => label.name === name);
  return names.length ? names.sort((a, b) => rank(a) - rank(b)).join(', ') : 'no label';
}

function totalMatches(predictions: TestPrediction[]): Matches {
  const total: Matches = { matched: 0, missed: 0, falsePositives: 0 };
  for (const { boxMatches } of predictions) {
    if (!boxMatches) continue;
    total.matched += boxMatches.matched;
    total.missed += boxMatches.missed;
    total.falsePositives += boxMatches.falsePositives;
  }
  return total;
}

/**
 * Detection predictions' boxes ({label, probability?, x, y, width, height}); none for a classification's label name
 * or a multilabel's names.
 */
function boxesOf(value: unknown): DrawnBox[] {
  return Array.isArray(value)
    ? (value as unknown[]).filter((entry): entry is DrawnBox => typeof entry === 'object')
    : [];
}

/** The labels of a detection test photo's boxes, labeled and found. */
const labelsOf = (prediction: TestPrediction) =>
  [...boxesOf(prediction.expected), ...boxesOf(prediction.predicted)].map((box) => box.label);

/** How a detection test set's boxes come: a COCO file (what labeling tools export) or the API's labels.json. */
const BOX_FORMATS: readonly RadioOption<'coco' | 'labels'>[] = [
  { value: 'coco', label: 'a COCO JSON file' },
  { value: 'labels', label: 'a labels.json file' },
];

/**
 * Photos the project has never seen, with their answers: classification picks photos per label; multilabel sends
 * photos with a labels.json giving each file's labels; detection sends photos with their boxes as a COCO JSON (what
 * labeling tools export) or a labels.json. The server checks every file and names each problem.
 */
function LabeledTestSet({
  project,
  iterationId,
  onRequested,
}: {
  project: Project;
  iterationId: string;
  onRequested: (run: TestRun) => Promise<void>;
}) {
  const multilabel = project.type === 'multilabel';
  const detection = project.type === 'detection';
  const [filesByLabel, setFilesByLabel] = useState<Record<string, File[]>>({});
  const [photos, setPhotos] = useState<File[]>([]);
  const [answers, setAnswers] = useState<File | null>(null);
  const [boxFormat, setBoxFormat] = useState<'coco' | 'labels'>('coco');
  const sendsCoco = detection && boxFormat === 'coco';
  // The file chosen for one format is not sent as the other: its field is emptied (a new input) and forgotten.
  const chooseBoxFormat = (format: 'coco' | 'labels') => {
    setBoxFormat(format);
    setAnswers(null);
  };
  // The boxes of the last COCO file the server cut or dropped, kept after the form is cleared for the next set.
  const [annotationIssues, setAnnotationIssues] = useState<{ file: string; issues: TestAnnotationIssue[] } | null>(
    null,
  );
  const form = useRef<HTMLFormElement>(null);
  const upload = useMutation({
    mutationFn: async () => {
      setAnnotationIssues(null);
      const body = new FormData();
      if (project.type === 'classification') {
        const labels: Record<string, string> = {};
        for (const [label, files] of Object.entries(filesByLabel)) {
          for (const file of files) {
            if (file.name in labels)
              throw new Error(`${file.name} was chosen twice: every photo of a test set needs its own file name.`);
            labels[file.name] = label;
            body.append('images', file, file.name);
          }
        }
        body.append('labels', JSON.stringify(labels));
      } else if (sendsCoco) {
        if (!answers) throw new Error('Choose the COCO JSON file that gives the boxes of these photos.');
        body.append('coco', await cocoText(answers));
        for (const file of photos) body.append('images', file, file.name);
      } else {
        if (!answers)
          throw new Error(`Choose the labels.json that gives each photo its ${multilabel ? 'labels' : 'boxes'}.`);
        try {
          body.append('labels', JSON.stringify(JSON.parse(await answers.text())));
        } catch {
          throw new Error(
            multilabel
              ? `${answers.name} is not JSON: it should map each file name to its labels, e.g. {"a.jpg": ["beach", "sunset"]}.`
              : `${answers.name} is not JSON: it should map each file name to its boxes, e.g. {"a.jpg": [{"label": "cat", "x": 0.1, "y": 0.2, "width": 0.3, "height": 0.4}]}.`,
          );
        }
        for (const file of photos) body.append('images', file, file.name);
      }
      if (!body.has('images')) throw new Error('Choose at least one photo.');
      for (const file of body.getAll('images') as File[])
        if (await isZip(file))
          throw new Error(`${file.name} is a zip: a test set is sent as photos. Unzip it, then choose its photos.`);
      const response = await fetch(`/v1/projects/${project.id}/iterations/${iterationId}/test-runs`, {
        method: 'POST',
        headers: getSessionHeaders(),
        body,
      });
      const answer = await response.json().catch(() => undefined);
      if (!response.ok) throw inWordsOfTheForm(toApiError(response, answer), answers);
      return { run: answer as RequestedTestRun, cocoFile: sendsCoco ? answers?.name : undefined };
    },
    onSuccess: async ({ run, cocoFile }) => {
      form.current?.reset();
      setFilesByLabel({});
      setPhotos([]);
      setAnswers(null);
      if (cocoFile && run.annotationIssues?.length)
        setAnnotationIssues({ file: cocoFile, issues: run.annotationIssues });
      await onRequested(run);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    upload.mutate();
  };
  const count = project.type === 'classification' ? Object.values(filesByLabel).flat().length : photos.length;
  return (
    <form ref={form} className="labeled-test-set" onSubmit={submit} aria-label="Test on labeled photos">
      <fieldset>
        <legend>Or test on labeled photos from your computer</legend>
        {project.type === 'classification' ? (
          project.labels.map((label) => (
            <label key={label.id}>
              Photos of “{label.name}”
              <input
                type="file"
                multiple
                accept="image/*"
                onChange={(event) =>
                  setFilesByLabel({ ...filesByLabel, [label.name]: [...(event.target.files ?? [])] })
                }
              />
            </label>
          ))
        ) : (
          <>
            <label>
              Photos
              <input
                type="file"
                multiple
                accept="image/*"
                onChange={(event) => setPhotos([...(event.target.files ?? [])])}
              />
            </label>
            {detection && (
              <RadioGroup
                legend="Their boxes come as"
                options={BOX_FORMATS}
                value={boxFormat}
                onChange={chooseBoxFormat}
                inline
              />
            )}
            <label>
              {multilabel ? (
                <>Their labels: a labels.json mapping each file name to its label names, e.g. ["beach", "sunset"]</>
              ) : sendsCoco ? (
                <>
                  Their boxes: a COCO JSON file (as labeling tools export it) listing these photos by file name, with
                  their boxes in pixels; its other images are not needed
                </>
              ) : (
                <>
                  Their boxes: a labels.json mapping each file name to [{'{'}label, x, y, width, height{'}'}] in
                  fractions of the image
                </>
              )}
              <input
                key={boxFormat}
                type="file"
                accept="application/json,.json"
                onChange={(event) => setAnswers(event.target.files?.[0] ?? null)}
              />
            </label>
          </>
        )}
        <button type="submit" disabled={upload.isPending || count === 0}>
          Test on {plural(count, 'photo')}
        </button>
        <ErrorMessage error={upload.error} />
        <TestSetProblems error={upload.error} />
        {annotationIssues && <CocoIssues {...annotationIssues} />}
      </fieldset>
    </form>
  );
}

/** 'fork_18.jpg, annotation id 999: left out. It names category id 7, …' (-1: about all the photo's boxes). */
function describeIssue(issue: TestAnnotationIssue, file: string): string {
  const annotation =
    issue.annotation < 0
      ? ''
      : `, annotation ${issue.annotationId === undefined ? `number ${issue.annotation + 1}` : `id ${issue.annotationId}`}`;
  // Without a photo: an annotation naming no image of the file, told as the file's own.
  return `${issue.filename ?? file}${annotation}: ${issue.action === 'dropped' ? 'left out' : 'changed'}. ${issue.message}`;
}

/** The COCO file's text, refused in the form's words when it is no JSON or longer than the API reads. */
async function cocoText(file: File): Promise<string> {
  const text = await file.text();
  try {
    JSON.parse(text);
  } catch {
    throw new Error(
      `${file.name} is not JSON: choose the COCO JSON file exported with these photos (it lists "images", "annotations" and "categories").`,
    );
  }
  if (text.length > COCO_MAX_CHARACTERS)
    throw new Error(
      `${file.name} is ${Math.ceil(text.length / 1024)} KiB; a test set's COCO file can be at most 64 KiB. Keep only the images you test on (and their annotations) in it, or test on fewer photos at a time.`,
    );
  return text;
}

/**
 * The API's refusals that name its own fields ("coco", "labels") told with the file the user chose, and what to do.
 * Other refusals already say what to fix in words a user knows.
 */
function inWordsOfTheForm(error: ApiError, answers: File | null): ApiError {
  const file = answers?.name ?? 'The file';
  const retold: Record<string, string> = {
    INVALID_COCO: `${file} cannot be read as a COCO file: ${error.message.replace(/^The "coco" field cannot be read: /, '')} Choose the COCO JSON exported with these photos, or switch to a labels.json.`,
    INVALID_LABELS: `${file} cannot be read: ${error.message.replace(/^The "labels" field /, 'it ')}`,
  };
  return error.code in retold ? new ApiError(error.status, error.code, retold[error.code], error.details) : error;
}

/** A 207's boxes of the COCO file that were cut to their photo or not taken, each with its photo and why. */
function CocoIssues({ file, issues }: { file: string; issues: TestAnnotationIssue[] }) {
  return (
    <div role="status" className="warnings">
      <p>
        The test run started, but {issues.length === 1 ? '1 box' : `${issues.length} boxes`} of {file}{' '}
        {issues.length === 1 ? 'was' : 'were'} not tested as written:
      </p>
      <ul aria-label={`Boxes of ${file} not tested as written`}>
        {issues.map((issue, index) => (
          <li key={index}>{describeIssue(issue, file)}</li>
        ))}
      </ul>
    </div>
  );
}

/** 400 INVALID_TEST_SET names each file's problem, and labels given for files not sent, in details. */
function TestSetProblems({ error }: { error: unknown }) {
  const details = (
    error as { details?: { files?: { filename: string; message: string }[]; labelsWithoutFile?: string[] } } | null
  )?.details;
  if (!details?.files && !details?.labelsWithoutFile) return null;
  return (
    <ul className="errors" aria-label="Problems with the test set">
      {details.files?.map((file) => (
        <li key={file.filename}>
          {file.filename}: {file.message}
        </li>
      ))}
      {details.labelsWithoutFile?.map((name) => (
        <li key={name}>{name}: labeled but not sent</li>
      ))}
    </ul>
  );
}

/** The schema types these as objects; they are a label name (classification) or a list of boxes (detection). */
function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `${value.length} box${value.length === 1 ? '' : 'es'}`;
  return 'nothing';
}
