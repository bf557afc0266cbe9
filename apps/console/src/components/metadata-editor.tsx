import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, type Image, type Project, unwrap } from '../api/client';
import { useRefreshImages } from '../api/images';
import { ErrorMessage } from './error-message';

type Entry = { key: string; value: string };

/** The metadata the entries make: an entry left blank is none. */
const metadataOf = (entries: Entry[]): Record<string, string> =>
  Object.fromEntries(
    entries.filter((entry) => entry.key !== '' || entry.value !== '').map((entry) => [entry.key, entry.value]),
  );

/** Two metadata records compared whatever the order of their keys. */
const sameMetadata = (a: Record<string, string>, b: Record<string, string>) =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/** An image's key-value metadata (camera, site, shift…), saved as a whole; the grid filters by an entry. */
export function MetadataEditor({ project, image }: { project: Project; image: Image }) {
  const queryClient = useQueryClient();
  const refresh = useRefreshImages(project.id);
  const initial = Object.entries((image.metadata ?? {}) as Record<string, string>).map(([key, value]) => ({
    key,
    value,
  }));
  const [entries, setEntries] = useState<Entry[]>(initial);
  const save = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.PUT('/v1/projects/{projectId}/images/{imageId}/metadata', {
          params: {
            path: { projectId: project.id, imageId: image.id },
            header: { 'If-Match': `W/"${image.revision}"` },
          },
          body: { metadata: metadataOf(entries) },
        }),
      ),
    onSuccess: async (saved) => {
      queryClient.setQueryData(['image', project.id, image.id], saved);
      await refresh();
    },
  });
  // Saved or not as the image now has it: 'Saved.' goes with the next edit, and Save waits for one.
  const changed = !sameMetadata(metadataOf(entries), (image.metadata ?? {}) as Record<string, string>);
  const change = (index: number, part: Partial<Entry>) =>
    setEntries(entries.map((entry, at) => (at === index ? { ...entry, ...part } : entry)));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <form className="card metadata" aria-label="Metadata" onSubmit={submit}>
      <h3>Metadata</h3>
      {entries.length === 0 && (
        <p className="hint">No metadata: add entries such as camera = north-gate to filter the dataset by them.</p>
      )}
      {entries.map((entry, index) => (
        <div key={index} className="toolbar" role="group" aria-label={`Entry ${index + 1}`}>
          <label>
            Key
            <input value={entry.key} onChange={(event) => change(index, { key: event.target.value })} />
          </label>
          <label>
            Value
            <input value={entry.value} onChange={(event) => change(index, { value: event.target.value })} />
          </label>
          <button
            type="button"
            onClick={() => setEntries(entries.filter((_, at) => at !== index))}
            aria-label={`Remove entry ${entry.key || index + 1}`}
          >
            Remove
          </button>
        </div>
      ))}
      <div className="toolbar">
        <button type="button" onClick={() => setEntries([...entries, { key: '', value: '' }])}>
          Add an entry
        </button>
        <button type="submit" className="primary" disabled={save.isPending || !changed}>
          Save metadata
        </button>
        {save.isSuccess && !changed && <span role="status">Saved.</span>}
      </div>
      <ErrorMessage error={save.error} />
    </form>
  );
}
