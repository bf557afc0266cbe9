import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useRef, useState } from 'react';
import { ApiError, getSessionHeaders, type Project, type Schemas, toApiError } from '../api/client';
import { Link, useLeaveWarning } from '../router';
import { CopyButton } from './copy-button';
import { ErrorMessage } from './error-message';
import { plural } from './plural';

type Imported = Schemas['ImportedProjectDto'];
type ImportStatus = Schemas['ProjectImportStatusDto'];

const IMPORT_POLL_MS = 1000;

/** What an import ended with: the synchronous answer, or only the new project's id (see awaitImport). */
type ImportOutcome = { imported: Imported } | { projectId: string };

/**
 * The archive is imported in the background (202): its status is read until the import is done or failed. The
 * new deployment keys come with the first read that reports done, from the api that ran the import; a read
 * answered by another api, or after a restart, has the project's id alone.
 */
async function awaitImport(accepted: ImportStatus, onPending: () => void): Promise<ImportOutcome> {
  onPending();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, IMPORT_POLL_MS));
    const response = await fetch(`/v1/projects/imports/${accepted.id}`, { headers: getSessionHeaders() });
    const status = (await response.json().catch(() => undefined)) as ImportStatus | undefined;
    if (!response.ok || !status) throw toApiError(response, status);
    if (status.status === 'failed' && status.error) {
      throw new ApiError(422, status.error.code, status.error.message, status.error.details);
    }
    if (status.status === 'done' && status.imported) return { imported: status.imported };
    if (status.status === 'done' && status.projectId) return { projectId: status.projectId };
  }
}

/** The whole project (history, images, models) as one zip, which an import turns into a new project here or elsewhere. */
export function ExportProject({ project }: { project: Project }) {
  const download = useMutation({
    mutationFn: async () => {
      const response = await fetch(`/v1/projects/${project.id}/export`, {
        method: 'POST',
        headers: getSessionHeaders(),
      });
      if (!response.ok) throw toApiError(response, await response.json().catch(() => undefined));
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement('a');
      link.href = url;
      link.download = archiveName(project.name);
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    },
  });
  return (
    <div className="card">
      <h2>Export</h2>
      <p className="hint">
        One zip with the project's whole history, images and models (deployment keys are never included).
      </p>
      <button type="button" onClick={() => download.mutate()} disabled={download.isPending}>
        {download.isPending ? 'Preparing the archive…' : 'Download the project archive'}
      </button>
      <ErrorMessage error={download.error} />
    </div>
  );
}

/** The API's words name its export endpoint; a person here made the zip with a button, or means to add photos. */
const NOT_A_PROJECT_ARCHIVE =
  'This zip is not a project archive: make one with "Download the project archive" on a project\'s Settings page. A zip of photos goes on a project\'s Dataset page instead.';

/** An exported archive becomes a new project owned by you; its deployments get new keys, shown once. */
/** The file name an export is downloaded under. */
const archiveName = (projectName: string) => `${projectName.replace(/[^\w.-]+/g, '-')}.diyml.zip`;

/**
 * The name to suggest for an archive of a project that is here already (an export re-imported: two projects of the
 * same name could not be told apart in the list): its name with the first free number, as file managers do.
 */
function nameBesides(file: File, projects: Project[]): string | null {
  // A browser saves a second download of the same archive as 'Trees.diyml (1).zip'.
  const downloaded = file.name.replace(/\s*\(\d+\)(?=\.zip$)/i, '');
  const original = projects.find((project) => archiveName(project.name) === downloaded);
  if (!original) return null;
  const taken = new Set(projects.map((project) => project.name));
  let number = 2;
  while (taken.has(`${original.name} (${number})`)) number += 1;
  return `${original.name} (${number})`;
}

export function ImportProject({ projects }: { projects: Project[] }) {
  const queryClient = useQueryClient();
  const form = useRef<HTMLFormElement>(null);
  const [archive, setArchive] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [suggested, setSuggested] = useState<string | null>(null);
  const [inBackground, setInBackground] = useState(false);
  const upload = useMutation({
    mutationFn: async (): Promise<ImportOutcome> => {
      if (!archive) throw new Error('Choose an archive made by “Download the project archive”.');
      const body = new FormData();
      body.append('archive', archive, archive.name);
      if (name.trim()) body.append('name', name.trim());
      // Asked in the background whatever the size: the page stays responsive and a long import outlives no request.
      const response = await fetch('/v1/projects/import', {
        method: 'POST',
        headers: { ...getSessionHeaders(), Prefer: 'respond-async' },
        body,
      });
      const answer = await response.json().catch(() => undefined);
      if (!response.ok) throw toApiError(response, answer);
      if (response.status === 202) return awaitImport(answer as ImportStatus, () => setInBackground(true));
      return { imported: answer as Imported };
    },
    onSettled: () => setInBackground(false),
    onSuccess: async () => {
      form.current?.reset();
      setArchive(null);
      setName('');
      setSuggested(null);
      await queryClient.invalidateQueries({ queryKey: ['projects'] });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    upload.mutate();
  };
  const outcome = upload.data;
  const imported = outcome && 'imported' in outcome ? outcome.imported : undefined;
  return (
    <form ref={form} className="card inline-form" aria-label="Import a project" onSubmit={submit}>
      <h2>Import a project</h2>
      <label>
        Project archive (.zip)
        <input
          type="file"
          accept=".zip,application/zip"
          onChange={(event) => {
            const file = event.target.files?.[0] ?? null;
            setArchive(file);
            const besides = file && nameBesides(file, projects);
            setSuggested(besides);
            // The user's own name stays; one suggested for the archive chosen before goes with it.
            if (!name.trim() || name === suggested) setName(besides ?? '');
          }}
        />
      </label>
      <label>
        Name (default: the exported one)
        <input value={name} onChange={(event) => setName(event.target.value)} maxLength={100} />
      </label>
      {suggested && name === suggested && (
        <p className="hint">A project of this archive's name is here already: the copy gets a name of its own.</p>
      )}
      <button type="submit" disabled={upload.isPending || !archive}>
        {upload.isPending ? 'Importing…' : 'Import'}
      </button>
      {inBackground && (
        <p className="hint" aria-live="polite">
          The archive is uploaded; the import goes on in the background (a large project takes minutes).
        </p>
      )}
      <ErrorMessage
        error={
          upload.error instanceof ApiError && upload.error.code === 'NOT_A_PROJECT_ARCHIVE'
            ? new Error(NOT_A_PROJECT_ARCHIVE)
            : upload.error
        }
      />
      {outcome && 'projectId' in outcome && (
        <p role="status">
          Imported: <Link href={`/projects/${outcome.projectId}`}>open the new project</Link>. Its deployments' new keys
          cannot be shown here (the import finished on another server of this installation, or before a restart): rotate
          a deployment's key on its Deploy page to get one.
        </p>
      )}
      {imported && (
        <div role="status">
          <ImportedSummary imported={imported} />
          <SameNameHint imported={imported.project} projects={projects} />
          {imported.deployments.length > 0 && <NewDeploymentKeys deployments={imported.deployments} />}
        </div>
      )}
    </form>
  );
}

/**
 * What the new project holds, as a user counts it: images (how many labeled), labels, boxes for a detector,
 * iterations, deployments. The import's own counts (events written, blobs stored) are its bookkeeping; files of the
 * archive it passed over are said, as the archive was not taken whole.
 */
function ImportedSummary({ imported }: { imported: Imported }) {
  const { project, contents, skipped } = imported;
  const counts = [
    `${plural(contents.images, 'image')} (${contents.labeledImages.toLocaleString('en-US')} labeled)`,
    plural(contents.labels, 'label'),
    (project.type === 'detection' || contents.regions > 0) &&
      `${contents.regions.toLocaleString('en-US')} ${contents.regions === 1 ? 'box' : 'boxes'}`,
    plural(contents.iterations, 'iteration'),
    plural(contents.deployments, 'deployment'),
  ].filter(Boolean);
  return (
    <>
      <p>
        Imported <Link href={`/projects/${project.id}`}>{project.name}</Link>: {counts.join(', ')}.
      </p>
      {skipped.unreferencedBlobs > 0 && (
        <p className="hint">
          {skipped.unreferencedBlobs === 1
            ? '1 file of the archive was left out: nothing in the project refers to it.'
            : `${skipped.unreferencedBlobs} files of the archive were left out: nothing in the project refers to them.`}
        </p>
      )}
    </>
  );
}

/**
 * An archive renamed after its download keeps its project's name, which the list cannot then tell from the
 * original's: the way to a name of its own.
 */
function SameNameHint({ imported, projects }: { imported: Imported['project']; projects: Project[] }) {
  if (!projects.some((project) => project.id !== imported.id && project.name === imported.name)) return null;
  return (
    <p className="warnings">
      You have another project named “{imported.name}”: give this one a name of its own in{' '}
      <Link href={`/projects/${imported.id}/settings`}>its settings</Link>, to tell them apart in the list.
    </p>
  );
}

/**
 * The imported deployments' keys, shown once: they stay, and leaving the page asks first, until the user says they are
 * saved (as OneTimeSecret does for one key).
 */
function NewDeploymentKeys({ deployments }: { deployments: Imported['deployments'] }) {
  const [saved, setSaved] = useState(false);
  useLeaveWarning(
    saved
      ? null
      : 'The new deployment keys are shown only this once and have not been saved. Leave anyway? They cannot be shown again.',
  );
  if (saved) return <p className="hint">The new deployment keys are saved, you said.</p>;
  return (
    <>
      <p>
        <strong>Copy them now:</strong> its deployments have new keys, shown only this once. They stay here until you
        say they are saved.
      </p>
      <ul aria-label="New deployment keys">
        {deployments.map((deployment) => (
          <li key={deployment.id}>
            {deployment.name}: <code>{deployment.apiKey}</code>{' '}
            <CopyButton text={deployment.apiKey} what={`The key of ${deployment.name}`} label="Copy key" />
          </li>
        ))}
      </ul>
      <button type="button" onClick={() => setSaved(true)}>
        I have saved them
      </button>
    </>
  );
}
