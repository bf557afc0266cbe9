import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { api, ApiError, type Project, refusedFile, type Schemas, unwrap } from '../api/client';
import { isZip, photoContentType } from '../api/upload';
import { BoxesOverlay } from '../components/boxes-overlay';
import { BoxLegend } from '../components/label-colours';
import { PredictionStoreSettings, Sharing } from '../components/deployment-extras';
import { UsageReport } from '../components/usage-report';
import { VideoPredictionTry } from '../components/video-prediction';
import { QuickTest } from '../components/quick-test';
import { CopyButton } from '../components/copy-button';
import { ErrorMessage } from '../components/error-message';
import { OneTimeSecret } from '../components/one-time-secret';
import { Loading } from '../components/loading';
import { Link, useLocation } from '../router';
import { IterationOptions } from '../components/iteration-options';
import { fraction, PercentInput } from '../components/percent';
import { plural } from '../components/plural';

type Deployment = Schemas['DeploymentDto'];
type Prediction = Schemas['PredictionDto'];

export function DeployPage({ project }: { project: Project }) {
  const queryClient = useQueryClient();
  const { search } = useLocation();
  const [keys, setKeys] = useState<Record<string, string>>({});
  // The deployment just made: its card takes the focus when it appears, where its key is to be copied.
  const [deployedId, setDeployedId] = useState<string | null>(null);
  const deployments = useQuery({
    queryKey: ['deployments', project.id],
    queryFn: async () =>
      unwrap(await api.GET('/v1/projects/{projectId}/deployments', { params: { path: { projectId: project.id } } })),
  });
  const iterations = useQuery({
    queryKey: ['iterations', project.id],
    queryFn: async () =>
      unwrap(await api.GET('/v1/projects/{projectId}/iterations', { params: { path: { projectId: project.id } } })),
  });
  const completed = iterations.data?.items.filter((iteration) => iteration.status === 'completed') ?? [];
  const [iterationId, setIterationId] = useState(search.get('iteration') ?? '');
  // 'production' until a deployment has that name; then empty, which the API names after the iteration.
  const [typedName, setName] = useState<string | null>(null);
  const name =
    typedName ?? (deployments.data?.items.some((deployment) => deployment.name === 'production') ? '' : 'production');
  const chosen = iterationId || completed[0]?.id || '';
  const chosenNumber = completed.find((iteration) => iteration.id === chosen)?.number;
  const deploy = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/projects/{projectId}/deployments', {
          params: { path: { projectId: project.id } },
          body: { iterationId: chosen, name: name || undefined },
        }),
      ),
    onSuccess: async (deployed) => {
      setKeys((previous) => ({ ...previous, [deployed.id]: deployed.apiKey }));
      setDeployedId(deployed.id);
      setName(null);
      await queryClient.invalidateQueries({ queryKey: ['deployments', project.id] });
    },
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    deploy.mutate();
  };
  return (
    <section>
      <form onSubmit={onSubmit} className="card inline-form" aria-label="Deploy an iteration">
        <h2>Deploy</h2>
        <ErrorMessage error={iterations.error} />
        {iterations.isPending || deployments.isPending ? (
          <Loading what="the iterations and deployments" />
        ) : iterations.data && completed.length === 0 ? (
          <p className="hint">
            Nothing to deploy yet: only completed iterations can be deployed.{' '}
            <Link href={`/projects/${project.id}/train`}>Train one</Link> first.
          </p>
        ) : (
          <>
            <p className="hint">
              A deployment gives an iteration a prediction URL and a key: your apps send photos there and get its
              predictions back. Try it here once deployed.
            </p>
            <label>
              Iteration
              <select value={chosen} onChange={(event) => setIterationId(event.target.value)}>
                <IterationOptions iterations={completed} />
              </select>
            </label>
            <label>
              Deployment name
              <input
                value={name}
                onChange={(event) => {
                  setName(event.target.value);
                  // A refusal (e.g. the name is taken) is about the name it was sent with.
                  deploy.reset();
                }}
                placeholder={chosenNumber === undefined ? undefined : `Iteration ${chosenNumber}`}
              />
            </label>
            <button type="submit" className="primary" disabled={!chosen || deploy.isPending}>
              Deploy
            </button>
          </>
        )}
        <ErrorMessage error={deploy.error} />
      </form>
      <ErrorMessage error={deployments.error} />
      {deployments.data?.items.map((deployment) => (
        <DeploymentCard
          key={deployment.id}
          project={project}
          deployment={deployment}
          apiKey={keys[deployment.id]}
          justDeployed={deployment.id === deployedId}
          onKey={(key) => setKeys((previous) => ({ ...previous, [deployment.id]: key }))}
        />
      ))}
    </section>
  );
}

function DeploymentCard({
  project,
  deployment,
  apiKey,
  justDeployed,
  onKey,
}: {
  project: Project;
  deployment: Deployment;
  apiKey?: string;
  justDeployed: boolean;
  onKey: (key: string) => void;
}) {
  const queryClient = useQueryClient();
  // The Deploy button, disabled while it worked, lost the focus: it comes here, to the key shown once.
  const card = useRef<HTMLElement>(null);
  useEffect(() => {
    if (justDeployed) card.current?.focus();
  }, [justDeployed]);
  const path = { projectId: project.id, deploymentId: deployment.id };
  const rotate = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST('/v1/projects/{projectId}/deployments/{deploymentId}/rotate-key', { params: { path } })),
    onSuccess: (rotated) => onKey(rotated.apiKey),
  });
  const undeploy = useMutation({
    mutationFn: async () =>
      unwrap(await api.DELETE('/v1/projects/{projectId}/deployments/{deploymentId}', { params: { path } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['deployments', project.id] }),
  });
  const [confirmingUndeploy, setConfirmingUndeploy] = useState(false);
  const endpoint = `${location.origin}${deployment.endpoint}`;
  const key = apiKey ?? '<your key>';
  return (
    <article className="card" aria-label={`Deployment ${deployment.name}`} ref={card} tabIndex={-1}>
      <h3>
        {deployment.name} <span className="badge">iteration {deployment.iterationNumber}</span>
      </h3>
      {/* Custom Vision's "Prediction URL" dialog: the address to copy, and where the key goes in a call. */}
      <p>
        Prediction URL: <code>{endpoint}</code>{' '}
        <CopyButton text={endpoint} what={`The prediction URL of ${deployment.name}`} label="Copy URL" />
      </p>
      <p className="hint">
        POST a photo there as the request body, with the deployment's key in the <code>X-Api-Key</code> header.
      </p>
      {apiKey ? (
        <OneTimeSecret
          secret={apiKey}
          what={`The key of ${deployment.name}`}
          testId="deployment-key"
          prefix={deployment.keyPrefix}
          copyLabel="Copy key"
        />
      ) : (
        <p className="hint">
          Key starting {deployment.keyPrefix}…: shown only once, when deployed. Rotate it only if it is lost or leaked:
          apps using the old key stop getting predictions.
        </p>
      )}
      <div className="toolbar">
        <button type="button" onClick={() => rotate.mutate()} disabled={rotate.isPending}>
          Rotate key
        </button>
        {!confirmingUndeploy && (
          <button type="button" className="danger" onClick={() => setConfirmingUndeploy(true)}>
            Undeploy…
          </button>
        )}
      </div>
      {/* Undeploying breaks every app calling the endpoint, and its key cannot be had back: asked once more. */}
      {confirmingUndeploy && (
        <div role="group" aria-label={`Confirm undeploying ${deployment.name}`}>
          <p>
            Calls to this endpoint will fail from now on: apps using <strong>{deployment.name}</strong> stop getting
            predictions. The iteration stays, to deploy again (with a new endpoint and key).
          </p>
          <button
            type="button"
            className="danger"
            onClick={() => undeploy.mutate()}
            disabled={undeploy.isPending}
            autoFocus
          >
            Undeploy for good
          </button>{' '}
          <button type="button" onClick={() => setConfirmingUndeploy(false)}>
            Cancel
          </button>
        </div>
      )}
      <ErrorMessage error={rotate.error ?? undeploy.error} />
      <Snippets endpoint={endpoint} apiKey={key} project={project} publishedName={deployment.name} />
      <TryIt project={project} deployment={deployment} apiKey={apiKey} />
      <details>
        <summary>Usage</summary>
        <UsageReport
          projectId={project.id}
          deploymentId={deployment.id}
          title={`Prediction calls of ${deployment.name}`}
        />
      </details>
      <details>
        <summary>Prediction store and sharing</summary>
        <PredictionStoreSettings project={project} deployment={deployment} />
        <Sharing project={project} deployment={deployment} />
      </details>
    </article>
  );
}

function Snippets({
  endpoint,
  apiKey,
  project,
  publishedName,
}: {
  endpoint: string;
  apiKey: string;
  project: Project;
  publishedName: string;
}) {
  const method = project.type === 'detection' ? 'detect_image' : 'classify_image';
  const snippets = {
    curl: `curl -X POST '${endpoint}' \\\n  -H 'X-Api-Key: ${apiKey}' \\\n  -H 'Content-Type: image/jpeg' \\\n  --data-binary @photo.jpg`,
    JavaScript: `const response = await fetch('${endpoint}', {\n  method: 'POST',\n  headers: { 'X-Api-Key': '${apiKey}', 'Content-Type': 'image/jpeg' },\n  body: await fs.promises.readFile('photo.jpg'),\n});\nconsole.log((await response.json()).predictions);`,
    Python: `import requests\n\nwith open('photo.jpg', 'rb') as photo:\n    response = requests.post('${endpoint}',\n        headers={'X-Api-Key': '${apiKey}', 'Content-Type': 'image/jpeg'},\n        data=photo)\nprint(response.json()['predictions'])`,
    'Custom Vision SDK (Python)': `# pip install azure-cognitiveservices-vision-customvision (the deployment name is the published name)
from azure.cognitiveservices.vision.customvision.prediction import CustomVisionPredictionClient
from msrest.authentication import ApiKeyCredentials

credentials = ApiKeyCredentials(in_headers={'Prediction-key': '${apiKey}'})
predictor = CustomVisionPredictionClient('${location.origin}', credentials)
with open('photo.jpg', 'rb') as photo:
    results = predictor.${method}('${project.id}', '${publishedName}', photo.read())
for prediction in results.predictions:
    print(prediction.tag_name, prediction.probability)`,
  };
  return (
    <details className="snippets">
      <summary>Call it from code</summary>
      {Object.entries(snippets).map(([language, code]) => (
        <figure key={language}>
          <figcaption>
            {language} <CopyButton text={code} what={`The ${language} snippet`} />
          </figcaption>
          <pre>
            <code>{code}</code>
          </pre>
        </figure>
      ))}
    </details>
  );
}

/** Drop a photo, see what the deployed model says (boxes drawn for detection). */
function TryIt({ project, deployment, apiKey }: { project: Project; deployment: Deployment; apiKey?: string }) {
  const [key, setKey] = useState(apiKey ?? '');
  const [photo, setPhoto] = useState<string | null>(null);
  // A photo dropped before the key was pasted: not sent (the endpoint would only refuse it), and said why.
  const [droppedWithoutKey, setDroppedWithoutKey] = useState<string | null>(null);
  // Typed in percent, as the predictions below are shown; the API takes a fraction.
  const [minimumPercent, setMinimumPercent] = useState('');
  const threshold = minimumPercent === '' ? '' : String(fraction(minimumPercent));
  // A key copied from a mail or a terminal often comes with a space or a line break around it.
  const effectiveKey = (apiKey ?? key).trim();
  const predict = useMutation({
    mutationFn: async (file: File) => {
      if (await isZip(file))
        throw new Error(
          `${file.name} is a zip, not a photo: choose one photo to try. Photos in a zip go to the dataset: upload it on the Dataset page.`,
        );
      setPhoto(await readAsDataUrl(file));
      const query = threshold === '' ? '' : `?threshold=${encodeURIComponent(threshold)}`;
      const response = await fetch(`${deployment.endpoint}${query}`, {
        method: 'POST',
        headers: { 'X-Api-Key': effectiveKey, 'Content-Type': photoContentType(file) },
        body: file,
      });
      // A proxy in front of the API can answer with an HTML page: never show its parse error.
      const body = (await response.json().catch(() => undefined)) as { predictions: Prediction[] } | undefined;
      if (!response.ok || !body) throw withKeyAdvice(refusedFile(file.name, response, body, false), deployment);
      return body.predictions;
    },
  });
  const pick = (files: FileList | null) => {
    const file = files?.[0];
    if (!file) return;
    if (!effectiveKey) {
      setDroppedWithoutKey(file.name);
      return;
    }
    setDroppedWithoutKey(null);
    predict.mutate(file);
  };
  return (
    <>
      <div
        className={effectiveKey ? 'try-it' : 'try-it waiting-for-key'}
        role="group"
        aria-label={`Try ${deployment.name} with its key`}
        onDragOver={(event) => event.preventDefault()}
        onDrop={(event) => {
          event.preventDefault();
          pick(event.dataTransfer.files);
        }}
      >
        <h4>Try it</h4>
        {!apiKey && (
          <label>
            Deployment key
            <input
              value={key}
              onChange={(event) => {
                setKey(event.target.value);
                setDroppedWithoutKey(null);
              }}
              placeholder={`${deployment.keyPrefix}…`}
              autoComplete="off"
              spellCheck={false}
            />
          </label>
        )}
        <label>
          Minimum probability (empty: the server's default)
          <PercentInput value={minimumPercent} onChange={setMinimumPercent} />
        </label>
        <label>
          Drop a photo here or choose one
          <input type="file" accept="image/*" onChange={(event) => pick(event.target.files)} disabled={!effectiveKey} />
        </label>
        {/* The photo and video pickers stay disabled until then: say why, and how to try without the key. */}
        {!effectiveKey &&
          (droppedWithoutKey ? (
            <p className="error" role="alert">
              {droppedWithoutKey} was not sent: paste this deployment&apos;s key above first, then drop it again. Or
              test it below with your login, no key needed.
            </p>
          ) : (
            <p className="hint">
              Paste this deployment&apos;s key above to try its endpoint, or test its model below with your login.
            </p>
          ))}
        <ErrorMessage error={predict.error} />
        {photo && predict.data && <TryItResult photo={photo} predictions={predict.data} />}
        <VideoPredictionTry deploymentId={deployment.id} apiKey={effectiveKey} threshold={threshold} />
      </div>
      {/* The key is shown once; rotating it to try would break the apps using it. The owner's login is enough here.
          Beside the box above, not in it: a photo dropped here is not also sent to the endpoint without a key. */}
      {!apiKey && (
        <QuickTest
          project={project}
          iterationId={deployment.iterationId}
          intro={`No key at hand? Test iteration ${deployment.iterationNumber}, the model this deployment serves, with your login: no key needed. The photo is not kept unless you add it to the dataset.`}
          pickerLabel="Drop a photo to test with your login, or choose one"
          name={`Quick test of ${deployment.name}`}
        />
      )}
    </>
  );
}

/** A refused key: the API's words, then what to check (the key's known start) and the way out if it is lost. */
function withKeyAdvice(error: ApiError, deployment: Deployment): ApiError {
  if (error.code !== 'INVALID_API_KEY') return error;
  return new ApiError(
    error.status,
    error.code,
    `${error.message} Paste the whole key of ${deployment.name}: it starts ${deployment.keyPrefix}. If it is lost, rotate it above (apps using the old key then stop getting predictions).`,
    error.details,
  );
}

/** Predictions listed and drawn: the most probable few; the rest folded away (a low threshold can give dozens). */
export const SHOWN_PREDICTIONS = 5;

/** Without a photo (one tested by its URL), the predictions alone. */
export function TryItResult({ photo, predictions }: { photo?: string; predictions: Prediction[] }) {
  const top = predictions.slice(0, SHOWN_PREDICTIONS);
  const rest = predictions.slice(SHOWN_PREDICTIONS);
  const boxes = top.filter((prediction) => prediction.box);
  const line = (prediction: Prediction, index: number) => (
    <li key={index}>
      {prediction.label}: {(prediction.probability * 100).toFixed(1)}%
    </li>
  );
  return (
    <div className="prediction">
      {photo && (
        <div>
          <BoxesOverlay
            predicted={boxes.map((prediction) => ({
              label: prediction.label,
              probability: prediction.probability,
              ...prediction.box!,
            }))}
          >
            <img src={photo} alt="The photo you tried" />
          </BoxesOverlay>
          <BoxLegend labels={boxes.map((prediction) => prediction.label)} />
        </div>
      )}
      <div>
        {predictions.length === 0 && <p>Nothing found above the minimum probability.</p>}
        <ol aria-label="Predictions">{top.map(line)}</ol>
        {rest.length > 0 && (
          <details>
            <summary>{plural(rest.length, 'less probable prediction')} (not drawn)</summary>
            <ol start={SHOWN_PREDICTIONS + 1} aria-label="Less probable predictions">
              {rest.map(line)}
            </ol>
          </details>
        )}
      </div>
    </div>
  );
}

export function readAsDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as string);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}
