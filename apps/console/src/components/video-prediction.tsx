import { useMutation, useQuery } from '@tanstack/react-query';
import { type Schemas, toApiError } from '../api/client';
import { ErrorMessage } from './error-message';
import { percent } from './percent';

type VideoPrediction = Schemas['VideoPredictionDto'];

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Send a video to the deployment (with its key): the server predicts frame by frame; each frame's answer is listed. */
export function VideoPredictionTry({
  deploymentId,
  apiKey,
  threshold,
}: {
  deploymentId: string;
  apiKey: string;
  threshold: string;
}) {
  const keyHeaders = { 'X-Api-Key': apiKey };
  const start = useMutation({
    mutationFn: async (file: File): Promise<VideoPrediction> => {
      const body = new FormData();
      body.append('video', file, file.name);
      const query = threshold === '' ? '' : `?threshold=${encodeURIComponent(threshold)}`;
      const response = await fetch(`/v1/predict/${deploymentId}/videos${query}`, {
        method: 'POST',
        headers: keyHeaders,
        body,
      });
      const answer = await response.json().catch(() => undefined);
      if (!response.ok) throw toApiError(response, answer);
      return answer as VideoPrediction;
    },
  });
  const id = start.data?.id;
  const progress = useQuery({
    queryKey: ['video-prediction', deploymentId, id],
    enabled: Boolean(id),
    queryFn: async (): Promise<VideoPrediction> => {
      const response = await fetch(`/v1/predict/${deploymentId}/videos/${id}`, { headers: keyHeaders });
      const answer = await response.json().catch(() => undefined);
      if (!response.ok) throw toApiError(response, answer);
      return answer as VideoPrediction;
    },
    refetchInterval: (query) => (query.state.data?.status === 'running' || !query.state.data ? 1000 : false),
  });
  const current = progress.data;
  return (
    <div>
      <label>
        Or a video (MP4, MOV, WebM): predictions frame by frame
        <input
          type="file"
          accept="video/mp4,video/quicktime,video/webm,.mp4,.mov,.webm"
          onChange={(event) => event.target.files?.[0] && start.mutate(event.target.files[0])}
          disabled={!apiKey}
        />
      </label>
      <ErrorMessage error={start.error ?? progress.error} />
      {current && (
        <p role="status">
          {current.status === 'running'
            ? `Predicting ${current.filename}: ${current.progress.framesDone} of ${current.progress.frameCount} frames…`
            : current.status === 'completed'
              ? `${current.filename}: ${(current.frames ?? []).length} frames predicted.`
              : `${current.filename} failed: ${current.error?.reason ?? 'see the server log'}`}
        </p>
      )}
      {current?.status === 'completed' && (
        <table aria-label="Predictions per frame">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Most probable</th>
              <th scope="col">Found</th>
            </tr>
          </thead>
          <tbody>
            {(current.frames ?? []).map((frame) => (
              <tr key={frame.timestampMs}>
                <td>{seconds(frame.timestampMs)}</td>
                <td>
                  {frame.predictions[0]
                    ? `${frame.predictions[0].label}: ${percent(frame.predictions[0].probability)}`
                    : 'nothing'}
                </td>
                <td>{frame.predictions.length}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
