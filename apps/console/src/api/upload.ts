import { zipSync } from 'fflate';
import type { Schemas } from './client';
import { toApiError } from './client';
import { getSession } from './session';

export type UploadItem = Schemas['UploadItemDto'];
type ImportResult = Schemas['ImportResultDto'];
type AnnotationIssue = Schemas['AnnotationIssueDto'];

/** A box of an imported COCO file that was dropped or cut on the way in, and why, for a person. */
export interface BoxIssue {
  /** The image it belongs to, or the COCO file when it names no listed image. */
  where: string;
  action: AnnotationIssue['action'];
  message: string;
}

export interface Uploaded {
  items: UploadItem[];
  boxIssues: BoxIssue[];
}

/** Files per request: small enough for steady progress, large enough to keep request overhead low. */
const FILES_PER_REQUEST = 20;

/**
 * Uploads images (and .zip archives through the import endpoint) with XMLHttpRequest, because fetch cannot report
 * upload progress. The responses are the typed UploadResultDto / ImportResultDto of the generated schema; an
 * import's COCO boxes that were not taken as they were come back as `boxIssues`. `labels` (ids) go with every image
 * (not the zips, whose folders say their labels). Files matching `annotationFile` (a COCO JSON, a one-hot CSV) are
 * chosen beside their photos as often as zipped with them: such files and the photos go to the import as one zip.
 */
export async function uploadFiles(
  projectId: string,
  files: File[],
  onProgress: (sentBytes: number, totalBytes: number) => void,
  labels: string[] = [],
  annotationFile?: RegExp,
): Promise<Uploaded> {
  const zips = await Promise.all(files.map(isZip));
  const archives = files.filter((_, index) => zips[index]);
  let images = files.filter((file) => !archives.includes(file));
  const annotations = annotationFile ? images.filter((file) => annotationFile.test(file.name)) : [];
  if (annotations.length) {
    archives.push(await zipOf(images, `${annotations[0].name.replace(/\.[^.]*$/, '')}.zip`));
    images = [];
  }
  const batches: { path: string; form: FormData; bytes: number }[] = [];
  for (let start = 0; start < images.length; start += FILES_PER_REQUEST) {
    const form = new FormData();
    const batch = images.slice(start, start + FILES_PER_REQUEST);
    for (const file of batch) form.append('images', file, file.name);
    if (labels.length) form.append('labels', JSON.stringify(labels));
    batches.push({ path: `/v1/projects/${projectId}/images`, form, bytes: sum(batch) });
  }
  for (const archive of archives) {
    const form = new FormData();
    form.append('archive', archive, archive.name);
    batches.push({ path: `/v1/projects/${projectId}/images/import`, form, bytes: archive.size });
  }
  const total = batches.reduce((bytes, batch) => bytes + batch.bytes, 0);
  let done = 0;
  const items: UploadItem[] = [];
  const boxIssues: BoxIssue[] = [];
  for (const batch of batches) {
    const result = await send(batch.path, batch.form, (sent) => onProgress(done + sent, total));
    done += batch.bytes;
    onProgress(done, total);
    items.push(...result.items);
    for (const item of result.items)
      for (const issue of item.annotationIssues ?? []) boxIssues.push(boxIssue(item.filename, issue));
    for (const issue of result.unmatchedAnnotations ?? []) boxIssues.push(boxIssue(issue.file, issue));
  }
  return { items, boxIssues };
}

/**
 * The Content-Type a chosen photo is sent with: its own when the browser knows it as an image, or else plain bytes, so
 * that the server reads them (as an upload does) instead of refusing the file for its declared type, e.g. text/plain.
 */
export const photoContentType = (file: File) =>
  file.type.startsWith('image/') ? file.type : 'application/octet-stream';

/** The import takes zips, the upload only images: a zip goes to the import whatever its name or type says. */
export async function isZip(file: File): Promise<boolean> {
  if (/\.zip$/i.test(file.name)) return true;
  const head = new Uint8Array(await file.slice(0, 4).arrayBuffer());
  // Every zip starts with a local file header (PK\3\4), or the end of central directory (PK\5\6) when empty.
  return head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5) && head[3] === head[2] + 1;
}

const boxIssue = (where: string, issue: AnnotationIssue): BoxIssue => ({
  where,
  action: issue.action,
  // -1: the image listed a second time, with all its boxes.
  message: `${issue.annotation >= 0 ? `annotation ${issue.annotation + 1} of ` : ''}${issue.file}: ${issue.message}`,
});

/** The files stored as they are (level 0): photos hardly shrink, deflating them would only cost the browser time. */
async function zipOf(files: File[], name: string): Promise<File> {
  const entries = Object.fromEntries(
    await Promise.all(files.map(async (file) => [file.name, new Uint8Array(await file.arrayBuffer())] as const)),
  );
  return new File([zipSync(entries, { level: 0 })], name, { type: 'application/zip' });
}

const sum = (files: File[]) => files.reduce((bytes, file) => bytes + file.size, 0);

/** An upload's or an import's answer: what both have, and what only an import says. */
type Answer = Pick<ImportResult, 'items'> & Partial<Pick<ImportResult, 'unmatchedAnnotations'>>;

function send(path: string, form: FormData, onProgress: (sent: number) => void): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', path);
    const session = getSession();
    if (session) request.setRequestHeader('Authorization', `Bearer ${session.accessToken}`);
    request.responseType = 'json';
    request.upload.onprogress = (event) => onProgress(event.loaded);
    request.onload = () => {
      const body = request.response as { items?: UploadItem[]; details?: { items?: UploadItem[] } } | null;
      if (request.status >= 200 && request.status < 300) resolve(body as Answer);
      // Every file of the batch rejected: still one result per file, so each shows its own reason.
      else if (Array.isArray(body?.details?.items)) resolve({ items: body.details.items });
      else
        reject(
          toApiError(new Response(null, { status: request.status, statusText: request.statusText }), request.response),
        );
    };
    request.onerror = () => reject(new Error('The upload failed: the server could not be reached.'));
    request.send(form);
  });
}
