import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type Project, type Schemas, unwrap } from '../api/client';
import { AuthenticatedImage, thumbnailPath } from './authenticated-image';
import { ErrorMessage } from './error-message';

type TestRun = Schemas['TestRunDto'];

const percent = (value: unknown) => (typeof value === 'number' ? `${(value * 100).toFixed(1)}%` : '–');

/** Test the iteration on the project's test split; each run's scores and the images it got wrong. */
export function TestRuns({ project, iterationId }: { project: Project; iterationId: string }) {
  const queryClient = useQueryClient();
  const path = { projectId: project.id, iterationId };
  const [openRun, setOpenRun] = useState<string | null>(null);
  const runs = useQuery({
    queryKey: ['test-runs', project.id, iterationId],
    queryFn: async () => unwrap(await api.GET('/v1/projects/{projectId}/iterations/{iterationId}/test-runs', { params: { path } })),
    refetchInterval: (query) => (query.state.data?.items.some((run) => run.status === 'requested') ? 1000 : false),
  });
  const request = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST('/v1/projects/{projectId}/iterations/{iterationId}/test-runs', { params: { path }, body: { split: 'test' } })),
    onSuccess: async (run) => {
      setOpenRun(run.id);
      await queryClient.invalidateQueries({ queryKey: ['test-runs', project.id, iterationId] });
    },
  });
  return (
    <div className="card">
      <h3>Test runs</h3>
      <p className="hint">Scores on images the model never trained or validated on: the project's test split.</p>
      <button type="button" onClick={() => request.mutate()} disabled={request.isPending}>
        Test on the test split
      </button>
      <ErrorMessage error={request.error ?? runs.error} />
      <table aria-label="Test runs">
        <thead>
          <tr>
            <th scope="col">Requested</th>
            <th scope="col">Status</th>
            <th scope="col">Images</th>
            <th scope="col">{project.type === 'detection' ? 'mAP@50' : 'Accuracy'}</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {runs.data?.items.map((run) => (
            <tr key={run.id}>
              <td>{new Date(run.requestedAt).toLocaleString()}</td>
              <td>{run.status}</td>
              <td>{run.imageCount}</td>
              <td>{percent((run.metrics as Record<string, unknown> | null)?.[project.type === 'detection' ? 'map50' : 'accuracy'])}</td>
              <td>
                {run.status === 'completed' && (
                  <button type="button" className="link" onClick={() => setOpenRun(run.id)}>
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
  const predictions = run.data?.predictions ?? [];
  const wrong = predictions.filter((prediction) => prediction.correct === false);
  return (
    <div>
      <ErrorMessage error={run.error} />
      <h4>
        {project.type === 'classification' ? `${wrong.length} of ${predictions.length} misclassified` : `${predictions.length} images`}
      </h4>
      <ul className="mini-grid predictions" aria-label="Test predictions">
        {(project.type === 'classification' ? [...wrong, ...predictions.filter((prediction) => prediction.correct)] : predictions).map(
          (prediction, index) => (
            <li key={index} className={prediction.correct === false ? 'wrong' : ''}>
              {prediction.imageId && <AuthenticatedImage path={thumbnailPath(project.id, prediction.imageId, 128)} alt={prediction.filename} />}
              <span>{prediction.filename}</span>
              <span>
                expected {describe(prediction.expected)}, predicted {describe(prediction.predicted)} ({percent(prediction.confidence)})
              </span>
            </li>
          ),
        )}
      </ul>
    </div>
  );
}

/** The schema types these as objects; they are a label name (classification) or a list of boxes (detection). */
function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `${value.length} box${value.length === 1 ? '' : 'es'}`;
  return 'nothing';
}
