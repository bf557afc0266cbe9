import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { api, unwrap } from './api/client';
import { setSession, useSession } from './api/session';
import { ErrorMessage } from './components/error-message';
import { Loading } from './components/loading';
import { LabelColours } from './components/label-colours';
import { UsageReport } from './components/usage-report';
import { AnalysisPage } from './pages/analysis-page';
import { DatasetPage } from './pages/dataset-page';
import { DeployPage } from './pages/deploy-page';
import { HistoryPage } from './pages/history-page';
import { ImagePage } from './pages/image-page';
import { IterationPage } from './pages/iteration-page';
import { LoginPage } from './pages/login-page';
import { ProjectSettingsPage } from './pages/project-settings-page';
import { ProjectsPage } from './pages/projects-page';
import { PredictionsPage } from './pages/predictions-page';
import { SharedModelsPage } from './pages/shared-models-page';
import { SuggestionsPage } from './pages/suggestions-page';
import { PROJECT_TYPES } from './pages/projects-page';
import { TokensPage } from './pages/tokens-page';
import { TrainPage } from './pages/train-page';
import { Link, match, navigate, useLocation } from './router';

export function App() {
  const session = useSession();
  const { path } = useLocation();
  const queryClient = useQueryClient();
  const publicPage = path === '/login' || path === '/signup';

  useEffect(() => {
    if (!session && !publicPage) navigate('/login', { replace: true });
    if (!session) queryClient.clear();
  }, [session, publicPage, queryClient]);

  if (!session) {
    return publicPage ? <LoginPage mode={path === '/signup' ? 'signup' : 'login'} /> : null;
  }
  return (
    <>
      <SkipLink />
      <header className="top-bar">
        <Link href="/" className="brand">
          diyml
        </Link>
        <nav aria-label="Account">
          <Link href="/">Projects</Link>
          <Link href="/shared-models">Shared models</Link>
          <Link href="/tokens">API tokens</Link>
          <a href="/docs">API docs</a>
          <span className="hint">{session.username}</span>
          <button type="button" onClick={() => setSession(null)}>
            Log out
          </button>
        </nav>
      </header>
      <Routes path={path} />
    </>
  );
}

/**
 * The first Tab stop, for keyboard users: past the account links (and a project's tabs) to what the page is about,
 * where the next Tab goes on.
 */
function SkipLink() {
  return (
    <a
      href="#content"
      className="skip-link"
      onClick={(event) => {
        // The router owns the address: move the focus without a #content in it.
        event.preventDefault();
        const target = document.getElementById('content') ?? document.querySelector('main');
        if (!target) return;
        if (!target.hasAttribute('tabindex')) target.tabIndex = -1;
        target.focus();
      }}
    >
      Skip to content
    </a>
  );
}

function Routes({ path }: { path: string }) {
  // Every project's address starts /projects/…: shortened to /projects, it still lists them.
  if (['/', '/login', '/signup', '/projects', '/projects/'].includes(path)) return <ProjectsPage />;
  if (path === '/tokens') return <TokensPage />;
  if (path === '/shared-models') return <SharedModelsPage />;
  const project = /^\/projects\/([^/]+)/.exec(path);
  if (project) return <ProjectScreen key={project[1]} projectId={project[1]} path={path} />;
  return (
    <main>
      <h1>Not found</h1>
      <Link href="/">Back to the projects</Link>
    </main>
  );
}

const TABS = [
  ['dataset', 'Dataset'],
  ['analysis', 'Analysis'],
  ['suggestions', 'Smart labeling'],
  ['train', 'Train'],
  ['deploy', 'Deploy'],
  ['predictions', 'Predictions'],
  ['usage', 'Usage'],
  ['history', 'History'],
  ['settings', 'Settings'],
] as const;

/** Pages without a tab of their own, under the tab that lists them: an image in the dataset, an iteration in Train. */
const OPENED_FROM: Record<string, string> = { images: 'dataset', iterations: 'train' };

/**
 * On a phone the tabs are one row that scrolls sideways: the open one is scrolled to its middle (when opened, and
 * when the window narrows), so Settings does not look absent when it is the page shown, and the tabs cut off at
 * either edge show there are more.
 */
function ProjectTabs({ base, section }: { base: string; section: string }) {
  const tabs = useRef<HTMLElement>(null);
  useEffect(() => {
    const showOpenTab = () => {
      const row = tabs.current;
      const open = row?.querySelector('[aria-current="page"]');
      if (!row || !open) return;
      const [shown, wanted] = [row.getBoundingClientRect(), open.getBoundingClientRect()];
      row.scrollLeft += wanted.left + wanted.width / 2 - (shown.left + shown.width / 2);
    };
    showOpenTab();
    window.addEventListener('resize', showOpenTab);
    return () => window.removeEventListener('resize', showOpenTab);
  }, [section]);
  return (
    <nav className="tabs" aria-label="Project" ref={tabs}>
      {TABS.map(([key, title]) => (
        <Link
          key={key}
          href={`${base}/${key}`}
          aria-current={section === key || OPENED_FROM[section] === key ? 'page' : undefined}
        >
          {title}
        </Link>
      ))}
    </nav>
  );
}

function ProjectScreen({ projectId, path }: { projectId: string; path: string }) {
  const project = useQuery({
    queryKey: ['project', projectId],
    queryFn: async () => unwrap(await api.GET('/v1/projects/{projectId}', { params: { path: { projectId } } })),
  });
  const base = `/projects/${projectId}`;
  const rest = path.slice(base.length) || '/dataset';
  const section = rest.split('/')[1];
  if (project.error) {
    return (
      <main>
        <ErrorMessage error={project.error} />
        <Link href="/">Back to the projects</Link>
      </main>
    );
  }
  if (!project.data)
    return (
      <main>
        <Loading what="the project" />
      </main>
    );
  const image = match('/images/:imageId', rest);
  const iteration = match('/iterations/:iterationId', rest);
  return (
    <LabelColours labels={project.data.labels}>
      <main>
        <h1>
          {project.data.name} <span className="badge">{PROJECT_TYPES[project.data.type]}</span>
        </h1>
        <ProjectTabs base={base} section={section} />
        <div id="content" tabIndex={-1}>
          {image ? (
            <ImagePage project={project.data} imageId={image.imageId} />
          ) : iteration ? (
            <IterationPage project={project.data} iterationId={iteration.iterationId} />
          ) : section === 'analysis' ? (
            <AnalysisPage project={project.data} />
          ) : section === 'suggestions' ? (
            <SuggestionsPage project={project.data} />
          ) : section === 'train' ? (
            <TrainPage project={project.data} />
          ) : section === 'deploy' ? (
            <DeployPage project={project.data} />
          ) : section === 'predictions' ? (
            <PredictionsPage project={project.data} />
          ) : section === 'usage' ? (
            <UsageReport projectId={project.data.id} title="Prediction calls of every deployment" level={2} />
          ) : section === 'history' ? (
            <HistoryPage project={project.data} />
          ) : section === 'settings' ? (
            <ProjectSettingsPage project={project.data} />
          ) : (
            <DatasetPage project={project.data} />
          )}
        </div>
      </main>
    </LabelColours>
  );
}
