import { useQuery } from '@tanstack/react-query';
import { api, type Project, type Schemas, unwrap } from '../api/client';
import { AuthenticatedImage, thumbnailPath } from '../components/authenticated-image';
import { plural } from '../components/plural';
import { ErrorMessage } from '../components/error-message';
import { issueLink as datasetIssueLink } from '../components/issue-link';
import { Loading } from '../components/loading';
import { Link } from '../router';

type Issue = Schemas['IssueDto'];

/** Whether training can start and why not; class balance, image sizes, duplicates. */
export function AnalysisPage({ project }: { project: Project }) {
  const analysis = useQuery({
    queryKey: ['analysis', project.id],
    queryFn: async () =>
      unwrap(await api.GET('/v1/projects/{projectId}/analysis', { params: { path: { projectId: project.id } } })),
  });
  if (analysis.error) return <ErrorMessage error={analysis.error} />;
  if (!analysis.data) return <Loading what="the analysis" />;
  const data = analysis.data;
  const dataset = `/projects/${project.id}/dataset`;
  const issueLink = (issue: Issue) => datasetIssueLink(project.id, issue);
  // Without validation images of its own, training validates on a share of the train ones: "validation 0" alone
  // reads as no validation at all, and the iteration's "4 for validation" as a surprise.
  const heldOut = data.splits.validation === 0 ? Math.round(project.trainingConfig.validationSplit * 100) : 0;
  const detection = project.type === 'detection';
  const largestLabel = Math.max(1, ...data.perLabel.map((entry) => entry.count));
  const largestBucket = Math.max(1, ...data.imageSizes.histogram.map((bucket) => bucket.count));
  return (
    <section className="analysis">
      <div className={`card ${data.ready ? '' : 'danger'}`}>
        <h2>{data.ready ? 'Ready to train' : 'Not ready to train yet'}</h2>
        <p>
          {/* A detection image is labeled by its boxes: "unlabeled" would read as a missing tag. */}
          {plural(data.imageCount, 'image')}: {data.labeledCount} {detection ? 'with boxes' : 'labeled'},{' '}
          {data.unlabeledCount} {detection ? 'without boxes' : 'unlabeled'}, {data.excludedCount} excluded · train{' '}
          {data.splits.train}, validation {data.splits.validation}
          {heldOut > 0 && ` (training holds out ${heldOut}% of the train images to validate on)`}, test{' '}
          {data.splits.test}
        </p>
        {[...data.problems, ...data.warnings].length > 0 && (
          <ul aria-label="Problems and warnings">
            {data.problems.map((issue, index) => (
              <li key={`p${index}`} className="error-text">
                {issue.message}{' '}
                <Link href={issueLink(issue)}>
                  {issue.code === 'TOO_FEW_LABELS' ? 'Add labels' : 'Show the images'}
                </Link>
              </li>
            ))}
            {data.warnings.map((issue, index) => (
              <li key={`w${index}`}>
                {issue.message} {issue.code !== 'DUPLICATES' && <Link href={issueLink(issue)}>Show the images</Link>}
              </li>
            ))}
          </ul>
        )}
      </div>
      <div className="card">
        <h2>Class balance</h2>
        {data.perLabel.length === 0 && (
          <p className="hint">
            No labels yet: add the ones your model should learn on the <Link href={dataset}>Dataset</Link> tab.
          </p>
        )}
        <ul className="bars" aria-label="Images per label">
          {data.perLabel.map((entry) => (
            <li key={entry.label.id}>
              <Link href={`${dataset}?label=${entry.label.id}`}>{entry.label.name}</Link>
              <meter
                min={0}
                max={largestLabel}
                value={entry.count}
                aria-label={`${entry.label.name}: ${plural(entry.count, 'image')}`}
              />
              <span>
                {plural(entry.count, 'image')} ({entry.trainCount} for training)
                {entry.boxes !== undefined ? ` · ${entry.boxes} ${entry.boxes === 1 ? 'box' : 'boxes'}` : ''}
              </span>
            </li>
          ))}
        </ul>
      </div>
      <div className="card">
        <h2>Image sizes</h2>
        {data.imageSizes.width && data.imageSizes.height && (
          <p>
            {sizeRange('Width', data.imageSizes.width)}, {sizeRange('height', data.imageSizes.height)}
          </p>
        )}
        {/* No image: a row of empty bars would only say 0 seven times. */}
        {data.imageCount === 0 ? (
          <p className="hint">No images yet.</p>
        ) : (
          <ul className="bars" aria-label="Images by their longer side">
            {data.imageSizes.histogram.map((bucket) => {
              const name = bucket.upTo === null ? 'larger' : `up to ${bucket.upTo} px`;
              return (
                <li key={name}>
                  <span>{name}</span>
                  <meter
                    min={0}
                    max={largestBucket}
                    value={bucket.count}
                    aria-label={`${name}: ${plural(bucket.count, 'image')}`}
                  />
                  <span>{bucket.count}</span>
                </li>
              );
            })}
          </ul>
        )}
      </div>
      <div className="card">
        <h2>Duplicates and near-duplicates</h2>
        {data.duplicates.groups.length === 0 && <p className="hint">None found.</p>}
        {data.duplicates.groups.map((group, index) => (
          <ul key={index} className="mini-grid" aria-label={`Duplicate group ${index + 1}`}>
            {group.images.map((image) => (
              <li key={image.id}>
                <Link href={`/projects/${project.id}/images/${image.id}`}>
                  <AuthenticatedImage path={thumbnailPath(project.id, image.id, 64)} alt={image.filename} />
                </Link>
                <span>{image.filename}</span>
              </li>
            ))}
          </ul>
        ))}
      </div>
    </section>
  );
}

/**
 * 'Width 31–40 px (median 36)', or 'Width 816 px (every image)' rather than '816–816 px'. The median of an even
 * count can fall between two pixels: a whole pixel says as much.
 */
function sizeRange(name: string, size: { min: number; max: number; median: number }): string {
  return size.min === size.max
    ? `${name} ${size.min} px (every image)`
    : `${name} ${size.min}–${size.max} px (median ${Math.round(size.median)})`;
}
