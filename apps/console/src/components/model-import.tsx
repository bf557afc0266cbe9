import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { getSessionHeaders, type Iteration, type Project, toApiError } from '../api/client';
import { navigate } from '../router';
import { ErrorMessage } from './error-message';

const isKeras = (file: File | null) => Boolean(file && /\.(h5|keras)$/i.test(file.name));

/**
 * A model trained elsewhere (a diyml or Teachable Machine zip, or a Keras file) becomes a completed iteration of
 * the project, ready to deploy; the server checks it and says what to fix.
 */
export function ImportModel({ project }: { project: Project }) {
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [labels, setLabels] = useState('');
  const upload = useMutation({
    mutationFn: async (): Promise<Iteration> => {
      if (!file) throw new Error('Choose a model file: a model zip, a Keras .h5 or a .keras file.');
      const body = new FormData();
      body.append('model', file, file.name);
      if (isKeras(file) && labels.trim()) body.append('labels', labels.trim());
      const response = await fetch(`/v1/projects/${project.id}/models`, {
        method: 'POST',
        headers: getSessionHeaders(),
        body,
      });
      const answer = await response.json().catch(() => undefined);
      if (!response.ok) throw toApiError(response, answer);
      return answer as Iteration;
    },
    onSuccess: async (iteration) => {
      await queryClient.invalidateQueries({ queryKey: ['iterations', project.id] });
      navigate(`/projects/${project.id}/iterations/${iteration.id}`);
    },
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    upload.mutate();
  };
  return (
    <form className="card" aria-label="Import a model" onSubmit={onSubmit}>
      <h2>Import a model</h2>
      <p className="hint">
        A model trained elsewhere becomes an iteration you can deploy and test: a zip exported by diyml or Teachable
        Machine, or a Keras file (.h5, .keras). Its classes must be labels of this project.
      </p>
      <label>
        Model file
        <input type="file" accept=".zip,.h5,.keras" onChange={(event) => setFile(event.target.files?.[0] ?? null)} />
      </label>
      {isKeras(file) && (
        <label>
          Class names in output order (Keras files name none)
          <input value={labels} onChange={(event) => setLabels(event.target.value)} placeholder="cat, dog" />
        </label>
      )}
      <ErrorMessage error={upload.error} />
      <button type="submit" disabled={upload.isPending}>
        {upload.isPending ? 'Checking the model…' : 'Import'}
      </button>
    </form>
  );
}
