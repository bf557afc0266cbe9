import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { api, getSessionHeaders, type Project, type Schemas, toApiError, unwrap } from '../api/client';
import { ErrorMessage } from './error-message';
import { LabelOptions } from './label-options';

type Video = Schemas['VideoDto'];

/** A video becomes images: the server takes frames at the chosen rate in the background; the grid fills as they come. */
export function VideoUpload({ project }: { project: Project }) {
  const queryClient = useQueryClient();
  const form = useRef<HTMLFormElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [framesPerSecond, setFramesPerSecond] = useState('1');
  const [label, setLabel] = useState('');
  const upload = useMutation({
    mutationFn: async (): Promise<Video> => {
      if (!file) throw new Error('Choose a video (MP4, MOV or WebM).');
      const body = new FormData();
      body.append('video', file, file.name);
      body.append('framesPerSecond', framesPerSecond);
      if (label) body.append('label', label);
      const response = await fetch(`/v1/projects/${project.id}/videos`, {
        method: 'POST',
        headers: getSessionHeaders(),
        body,
      });
      const answer = await response.json().catch(() => undefined);
      if (!response.ok) throw toApiError(response, answer);
      return answer as Video;
    },
    onSuccess: () => {
      form.current?.reset();
      setFile(null);
    },
  });
  const videoId = upload.data?.id;
  const video = useQuery({
    queryKey: ['video', project.id, videoId],
    enabled: Boolean(videoId),
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/projects/{projectId}/videos/{videoId}', {
          params: { path: { projectId: project.id, videoId: videoId! } },
        }),
      ),
    refetchInterval: (query) =>
      query.state.data?.status === 'completed' || query.state.data?.status === 'failed' ? false : 1000,
  });
  const done = video.data?.progress.framesDone;
  useEffect(() => {
    if (done !== undefined) void queryClient.invalidateQueries({ queryKey: ['images', project.id] });
  }, [done, queryClient, project.id]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    upload.mutate();
  };
  const current = video.data;
  return (
    <form ref={form} className="inline-form upload-video" aria-label="Upload a video" onSubmit={submit}>
      <label>
        Video (MP4, MOV, WebM)
        <input
          type="file"
          accept="video/mp4,video/quicktime,video/webm,.mp4,.mov,.webm"
          onChange={(event) => setFile(event.target.files?.[0] ?? null)}
        />
      </label>
      <label>
        Frames per second
        <input
          type="number"
          min={0.1}
          max={30}
          step={0.1}
          value={framesPerSecond}
          onChange={(event) => setFramesPerSecond(event.target.value)}
        />
      </label>
      {project.type === 'classification' && (
        <label>
          Label every frame
          <select value={label} onChange={(event) => setLabel(event.target.value)}>
            <option value="">no label</option>
            <LabelOptions labels={project.labels} />
          </select>
        </label>
      )}
      <button type="submit" disabled={upload.isPending || !file}>
        Upload video
      </button>
      <ErrorMessage error={upload.error ?? video.error} />
      {current && (
        <p role="status">
          {current.filename}:{' '}
          {current.status === 'extracting'
            ? `${current.progress.framesDone} of ${current.progress.frameCount} frames taken…`
            : current.status === 'completed'
              ? `${current.created} frames added${current.duplicates ? `, ${current.duplicates} already in the project` : ''}${current.rejected ? `, ${current.rejected} refused` : ''}.`
              : `failed: ${current.error?.reason ?? 'see the server log'}`}
        </p>
      )}
    </form>
  );
}
