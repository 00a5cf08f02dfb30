import { useEffect, useId, useState, type FormEvent } from 'react';
import { describeError } from '../api/errors';
import { Brand } from '../components/Brand';
import { useServices } from '../context';
import { routeHref } from '../router';
import { useSession } from '../session';

export function LoginScreen({ notice }: { notice?: string | undefined }) {
  const { login } = useSession();
  const { platform } = useServices();
  const ids = useId();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const [serverUrl, setServerUrl] = useState<string | null>(null);

  useEffect(() => {
    void platform.getServerUrl().then(setServerUrl, () => setServerUrl(null));
  }, [platform]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!email.trim() || !password) {
      setError('Enter your email and password.');
      return;
    }
    setPending(true);
    setError(null);
    try {
      await login(email.trim(), password);
    } catch (failure) {
      setError(describeError(failure, 'login'));
      setPending(false);
    }
  }

  return (
    <main className="login">
      <form className="login-card" onSubmit={submit} noValidate aria-labelledby={`${ids}-title`}>
        <div className="brand brand-large">
          <Brand />
        </div>
        <h1 id={`${ids}-title`}>Log in</h1>
        {notice && !error ? (
          <p className="notice" role="status">
            {notice}
          </p>
        ) : null}
        <label htmlFor={`${ids}-email`} className="field-label">
          Email
        </label>
        <input id={`${ids}-email`} type="email" autoComplete="username" value={email} onChange={(event) => setEmail(event.target.value)} autoFocus />
        <label htmlFor={`${ids}-password`} className="field-label">
          Password
        </label>
        <input id={`${ids}-password`} type="password" autoComplete="current-password" value={password} onChange={(event) => setPassword(event.target.value)} />
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" className="button button-primary button-block" disabled={pending}>
          {pending ? 'Logging in…' : 'Log in'}
        </button>
        <p className="subtle server-line">
          Server: <span className="mono">{serverUrl ?? '…'}</span> · <a href={routeHref({ name: 'settings' })}>change</a>
        </p>
      </form>
    </main>
  );
}
