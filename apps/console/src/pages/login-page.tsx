import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, ApiError, toApiError, unwrap } from '../api/client';
import { setSession } from '../api/session';
import { ErrorMessage } from '../components/error-message';
import { Link, navigate } from '../router';

/**
 * A login too short for the sign-up rules is simply wrong: said as the server says a wrong password, not with the
 * rules ('password must be longer than or equal to 8 characters') a returning user has no use for.
 */
const asWrongCredentials = (error: ApiError) =>
  error.code === 'VALIDATION_FAILED' ? new ApiError(401, 'INVALID_CREDENTIALS', 'Wrong username or password.') : error;

/** Log in, or sign up (which logs in at once). */
export function LoginPage({ mode }: { mode: 'login' | 'signup' }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const submit = useMutation({
    mutationFn: async () => {
      const credentials = { username, password };
      if (mode === 'signup') unwrap(await api.POST('/v1/auth/register', { body: credentials }));
      const answer = await api.POST('/v1/auth/login', { body: credentials });
      if (!answer.response.ok) throw asWrongCredentials(toApiError(answer.response, answer.error));
      const login = unwrap(answer);
      setSession({ username, accessToken: login.accessToken });
    },
    onSuccess: () => navigate('/', { replace: true }),
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    submit.mutate();
  };
  const title = mode === 'signup' ? 'Create your account' : 'Log in to diyml';
  return (
    <main className="auth">
      <h1>{title}</h1>
      <p className="hint">Label images, train a model on this machine, and deploy it behind an API key.</p>
      <form onSubmit={onSubmit} className="card">
        <label>
          Username
          <input
            name="username"
            autoComplete="username"
            // The page is there to type in: the first field is ready for it.
            autoFocus
            value={username}
            onChange={(event) => setUsername(event.target.value)}
            required
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete={mode === 'signup' ? 'new-password' : 'current-password'}
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            required
          />
        </label>
        {mode === 'signup' && <p className="hint">At least 8 characters.</p>}
        <ErrorMessage error={submit.error} />
        <button type="submit" className="primary" disabled={submit.isPending}>
          {mode === 'signup' ? 'Sign up' : 'Log in'}
        </button>
      </form>
      <p>
        {mode === 'signup' ? (
          <>
            Already have an account? <Link href="/login">Log in</Link>
          </>
        ) : (
          <>
            New here? <Link href="/signup">Create an account</Link>
          </>
        )}
      </p>
    </main>
  );
}
