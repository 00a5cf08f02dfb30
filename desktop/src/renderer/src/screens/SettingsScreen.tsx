import { useEffect, useId, useState, type FormEvent } from 'react';
import { useServices } from '../context';
import { routeHref } from '../router';

/** The server address (persisted by the main process in the app, in localStorage in a browser). */
export function SettingsScreen({ signedIn }: { signedIn: boolean }) {
  const { platform } = useServices();
  const ids = useId();
  const [current, setCurrent] = useState<string | null>(null);
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    void platform.getServerUrl().then((url) => {
      setCurrent(url);
      setValue(url);
    });
  }, [platform]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      const normalized = await platform.setServerUrl(value);
      setValue(normalized);
      setSaved(true);
      if (normalized !== current) {
        // Another server: nothing cached or signed in belongs to it. Start afresh.
        await platform.clearToken();
        window.location.hash = routeHref({ name: 'orders' });
        window.location.reload();
      }
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  }

  return (
    <main className={signedIn ? 'screen screen-settings' : 'login'}>
      <form className={signedIn ? 'card settings-card' : 'login-card'} onSubmit={submit} noValidate>
        <h1>Server</h1>
        <p className="subtle">
          {platform.kind === 'electron'
            ? 'The Orders server this app talks to. Your session token is kept encrypted by the operating system’s keychain.'
            : 'The Orders server this page talks to (normally this site itself). Your session lasts until you close the tab.'}
        </p>
        <label htmlFor={`${ids}-url`} className="field-label">
          Server address
        </label>
        <input id={`${ids}-url`} className="mono" value={value} onChange={(event) => setValue(event.target.value)} placeholder="http://127.0.0.1:4000" />
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : saved ? (
          <p className="notice" role="status">
            Saved.
          </p>
        ) : null}
        <div className="dialog-actions">
          <a className="button" href={routeHref({ name: 'orders' })}>
            Back
          </a>
          <button type="submit" className="button button-primary">
            Save
          </button>
        </div>
      </form>
    </main>
  );
}
