import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, unwrap } from '../api/client';
import { ErrorMessage } from '../components/error-message';
import { OneTimeSecret } from '../components/one-time-secret';

/** Personal API tokens for scripts: created here, shown once, revoked when no longer needed. */
export function TokensPage() {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const tokens = useQuery({ queryKey: ['tokens'], queryFn: async () => unwrap(await api.GET('/v1/users/me/tokens')) });
  const issue = useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/users/me/tokens', { body: { name } })),
    onSuccess: async () => {
      setName('');
      await queryClient.invalidateQueries({ queryKey: ['tokens'] });
    },
  });
  const revoke = useMutation({
    mutationFn: async (tokenId: string) =>
      unwrap(await api.DELETE('/v1/users/me/tokens/{tokenId}', { params: { path: { tokenId } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['tokens'] }),
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    issue.mutate();
  };
  return (
    <main id="content">
      <h1>Personal API tokens</h1>
      <p className="hint">A token acts as you on the REST API (Authorization: Bearer dml_…), for scripts and CI.</p>
      <form onSubmit={onSubmit} className="card inline-form" aria-label="New token">
        <label>
          Token name
          <input value={name} onChange={(event) => setName(event.target.value)} placeholder="laptop script" />
        </label>
        <button type="submit" className="primary" disabled={issue.isPending}>
          Create token
        </button>
        <ErrorMessage error={issue.error} />
      </form>
      {issue.data && (
        <div className="card">
          <OneTimeSecret secret={issue.data.token} what={`The token ${issue.data.name}`} copyLabel="Copy token" />
        </div>
      )}
      <ErrorMessage error={tokens.error ?? revoke.error} />
      {tokens.data?.items.length === 0 && <p className="hint">No tokens yet: create one above for a script or CI.</p>}
      {Boolean(tokens.data?.items.length) && (
        <table aria-label="Tokens" className="stacked">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Starts with</th>
              <th scope="col">Created</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {tokens.data?.items.map((token) => (
              <tr key={token.id}>
                <td className="row-name">{token.name}</td>
                <td data-label="Starts with">
                  <code>{token.prefix}</code>
                </td>
                <td data-label="Created">{new Date(token.createdAt).toLocaleString()}</td>
                <td data-label="State">
                  {token.revokedAt ? (
                    'revoked'
                  ) : (
                    <button type="button" onClick={() => revoke.mutate(token.id)}>
                      Revoke {token.name}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
