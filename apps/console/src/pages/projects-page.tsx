import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, type Project, unwrap } from '../api/client';
import { ErrorMessage } from '../components/error-message';
import { plural } from '../components/plural';
import { ImportProject } from '../components/project-transfer';
import { RadioGroup, type RadioOption } from '../components/radio-group';
import { Link, navigate } from '../router';

/** A project's type as its badge names it. */
export const PROJECT_TYPES: Record<Project['type'], string> = {
  classification: 'classification',
  multilabel: 'multi-label',
  detection: 'detection',
};

/** The project types a new project can have, each with what it means for the images. */
const PROJECT_TYPE_CHOICES: readonly RadioOption<Project['type']>[] = [
  { value: 'classification', label: 'Classification (one label per image)' },
  {
    value: 'multilabel',
    label: 'Multi-label classification (any number of labels per image, e.g. “beach” and “sunset”)',
  },
  { value: 'detection', label: 'Detection (boxes around objects)' },
];

export function ProjectsPage() {
  const projects = useQuery({
    queryKey: ['projects'],
    queryFn: async () => unwrap(await api.GET('/v1/projects', { params: { query: { limit: 100 } } })),
  });
  return (
    <main id="content">
      <h1>Projects</h1>
      <CreateProjectForm />
      <ErrorMessage error={projects.error} />
      {projects.data && projects.data.items.length === 0 && (
        <p className="hint">No projects yet: create one above to start labeling.</p>
      )}
      <ul className="project-list">
        {projects.data?.items.map((project) => (
          <li key={project.id} className="card">
            <Link href={`/projects/${project.id}`} className="project-name">
              {project.name}
            </Link>
            <span className="badge">{PROJECT_TYPES[project.type]}</span>
            <span className="hint">{plural(project.labels.length, 'label')}</span>
          </li>
        ))}
      </ul>
      <ImportProject projects={projects.data?.items ?? []} />
    </main>
  );
}

function CreateProjectForm() {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [type, setType] = useState<Project['type']>('classification');
  const create = useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/projects', { body: { name, type } })),
    onSuccess: async (project) => {
      await queryClient.invalidateQueries({ queryKey: ['projects'] });
      navigate(`/projects/${project.id}`);
    },
  });
  // A blank name is caught here, in words, rather than as the API's 'name must be longer than or equal to 1 characters'.
  const [blank, setBlank] = useState(false);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setBlank(!name.trim());
    if (name.trim()) create.mutate();
  };
  return (
    <form onSubmit={onSubmit} className="card inline-form" aria-label="New project">
      <label>
        Project name
        <input value={name} onChange={(event) => setName(event.target.value)} placeholder="Cats and dogs" />
      </label>
      <RadioGroup legend="Type" options={PROJECT_TYPE_CHOICES} value={type} onChange={setType} />
      <button type="submit" className="primary" disabled={create.isPending}>
        Create project
      </button>
      <ErrorMessage error={blank ? new Error('Give the project a name, for example "Cats and dogs".') : create.error} />
    </form>
  );
}
