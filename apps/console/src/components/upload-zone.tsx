import { useMutation } from '@tanstack/react-query';
import { type DragEvent, type RefObject, useRef, useState } from 'react';
import type { Project } from '../api/client';
import { useRefreshImages } from '../api/images';
import { type UploadItem, uploadFiles } from '../api/upload';
import { ErrorMessage } from './error-message';
import { LabelOptions } from './label-options';
import { plural } from './plural';

/**
 * Drop (or pick) images and .zip archives; shows overall progress and what happened to each file, and to each box of
 * an imported COCO file that was not taken as it was. `picker` lets another control of the page open the same file
 * chooser.
 */
export function UploadZone({ project, picker }: { project: Project; picker?: RefObject<HTMLInputElement | null> }) {
  const projectId = project.id;
  const refreshImages = useRefreshImages(projectId);
  const own = useRef<HTMLInputElement>(null);
  const input = picker ?? own;
  const [dragging, setDragging] = useState(false);
  const [progress, setProgress] = useState<{ sent: number; total: number } | null>(null);
  // The labels (ids) every photo of the next uploads gets, as Custom Vision asks for the tags of an upload: several for
  // a multilabel project, at most one for a classification project.
  const [uploadLabels, setUploadLabels] = useState<ReadonlySet<string>>(new Set());
  const upload = useMutation({
    mutationFn: ({ files, labelIds }: { files: File[]; labelIds: string[] }) =>
      uploadFiles(
        projectId,
        files,
        (sent, total) => setProgress({ sent, total }),
        labelIds,
        ANNOTATION_FILES[project.type]?.pattern,
      ),
    // Each label's image count too: uploads with a label, a zip's folders or a COCO file's boxes add to them.
    onSettled: refreshImages,
  });
  const start = (files: File[]) => {
    if (files.length === 0) return;
    setProgress({ sent: 0, total: files.reduce((bytes, file) => bytes + file.size, 0) });
    upload.mutate({
      files,
      labelIds: project.labels.filter((label) => uploadLabels.has(label.id)).map((label) => label.id),
    });
  };
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    start([...event.dataTransfer.files]);
  };
  const items = upload.data?.items ?? [];
  const boxIssues = upload.data?.boxIssues ?? [];
  const dropped = boxIssues.filter((issue) => issue.action === 'dropped').length;
  // An annotation file's entry whose photo is not in the upload was never a file sent: a warning, not a refusal.
  const missing = items.filter((item) => item.status === 'rejected' && item.error?.code === MISSING_FILE);
  const rejected = items.filter((item) => item.status === 'rejected' && item.error?.code !== MISSING_FILE);
  const counts = countBy(items);
  // The labels the finished upload gave, named in its outcome: the choice above may have changed since.
  const givenLabels = project.labels
    .filter((label) => upload.variables?.labelIds.includes(label.id))
    .map((label) => label.name);
  return (
    <section
      className={`upload-zone ${dragging ? 'dragging' : ''}`}
      onDragOver={(event) => {
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
      aria-label="Upload images"
    >
      <p>
        Drop photos or a .zip here (
        {project.type === 'detection'
          ? 'with a COCO JSON file, zipped or beside the photos: its boxes come along'
          : project.type === 'multilabel'
            ? 'folders in the zip become labels, or a CSV of filename and a 1 or 0 per label'
            : 'folders in the zip become labels'}
        ), or{' '}
        <button type="button" onClick={() => input.current?.click()}>
          choose files
        </button>
      </p>
      {project.type === 'multilabel' && project.labels.length > 0 && (
        <fieldset className="upload-labels">
          <legend>Labels for the photos uploaded (optional)</legend>
          {project.labels.map((label) => (
            <label key={label.id} className="choice">
              <input
                type="checkbox"
                checked={uploadLabels.has(label.id)}
                onChange={() => {
                  const next = new Set(uploadLabels);
                  if (!next.delete(label.id)) next.add(label.id);
                  setUploadLabels(next);
                }}
              />
              {label.name}
            </label>
          ))}
        </fieldset>
      )}
      {project.type === 'classification' && project.labels.length > 0 && (
        <label className="upload-labels">
          Label for the photos uploaded (optional)
          <select
            value={[...uploadLabels][0] ?? ''}
            onChange={(event) => setUploadLabels(new Set(event.target.value ? [event.target.value] : []))}
          >
            <option value="">None: label them afterwards</option>
            <LabelOptions labels={project.labels} />
          </select>
        </label>
      )}
      <input
        ref={input}
        type="file"
        multiple
        accept={`image/*,.zip${ANNOTATION_FILES[project.type]?.extension ?? ''}`}
        hidden
        aria-label="Images or zip archives to upload"
        onChange={(event) => {
          start([...(event.target.files ?? [])]);
          event.target.value = '';
        }}
      />
      {progress && (upload.isPending || upload.isSuccess) && (
        <progress max={progress.total || 1} value={progress.sent} aria-label="Upload progress" />
      )}
      {/* In words while it runs: a full bar alone reads as done while the server still checks each photo. */}
      {progress && upload.isPending && (
        <p role="status">
          {progress.sent < progress.total
            ? `Sending ${plural(upload.variables.files.length, 'file')}: ${Math.floor((progress.sent / progress.total) * 100)}%…`
            : `Sent: the server is checking ${plural(upload.variables.files.length, 'file')}…`}
        </p>
      )}
      {upload.isSuccess && (
        <p role="status">
          {counts.created} uploaded{givenLabels.length ? ` as ${givenLabels.join(' and ')}` : ''}
          {counts.duplicate ? `, ${counts.duplicate} already there` : ''}
          {rejected.length ? `, ${rejected.length} rejected` : ''}.
        </p>
      )}
      {missing.length > 0 && (
        <details className="hint">
          <summary>{missingWarning(missing.length)}</summary>
          <ul aria-label="Photos named in the annotations but not uploaded">
            {missing.map((item, index) => (
              <li key={`${item.filename}-${index}`}>{item.filename}</li>
            ))}
          </ul>
        </details>
      )}
      {rejected.length > 0 && (
        <ul className="errors" aria-label="Files that were not uploaded">
          {rejected.map((item, index) => (
            <li key={`${item.filename}-${index}`}>
              <strong>{item.filename}</strong>: {item.error?.message}
            </li>
          ))}
        </ul>
      )}
      {boxIssues.length > 0 && (
        <details className="warnings">
          <summary>
            {dropped > 0 && `${boxes(dropped)} not taken`}
            {dropped > 0 && dropped < boxIssues.length && ', '}
            {dropped < boxIssues.length && `${boxes(boxIssues.length - dropped)} cut to the image`}: see why
          </summary>
          <ul aria-label="Boxes not taken as they were">
            {boxIssues.map((issue, index) => (
              <li key={index}>
                <strong>{issue.where}</strong>: {issue.message}
              </li>
            ))}
          </ul>
        </details>
      )}
      <ErrorMessage error={upload.error} />
    </section>
  );
}

/** The annotation file an import of the project's type reads, which may be chosen beside the photos too. */
const ANNOTATION_FILES: Partial<Record<Project['type'], { pattern: RegExp; extension: string }>> = {
  detection: { pattern: /\.json$/i, extension: ',.json' },
  multilabel: { pattern: /\.csv$/i, extension: ',.csv' },
};

const MISSING_FILE = 'MISSING_FILE';

/** What to do about annotated photos the upload lacks: nothing of the upload was refused for them. */
function missingWarning(count: number): string {
  const [them, are] = count === 1 ? ['it', 'is'] : ['them', 'are'];
  const photos = count === 1 ? '1 photo' : `${count} photos`;
  return (
    `${photos} named in the annotations ${are} not in the upload: to have ${them} with ${count === 1 ? 'its' : 'their'} ` +
    `annotations, add ${them} and upload again (photos already here are skipped); or leave ${them} out.`
  );
}

const boxes = (count: number) => `${count} box${count === 1 ? '' : 'es'}`;

function countBy(items: UploadItem[]): Record<UploadItem['status'], number> {
  const counts = { created: 0, duplicate: 0, rejected: 0 };
  for (const item of items) counts[item.status] += 1;
  return counts;
}
