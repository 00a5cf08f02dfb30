import { useId, useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { API_KEY_SCOPES, CUSTOMER_SCOPES, STAFF_ROLES, type ApiKeyScope, type StaffRole } from '@orders/shared';
import { useApi } from '../context';
import { describeError } from '../api/errors';
import { queryKeys, useApiKeys, useStaffList } from '../api/queries';
import { EmptyState, ErrorState, Spinner } from '../components/States';
import { Tag } from '../components/StatusBadge';
import { Time } from '../components/Time';
import { useToast } from '../components/Toasts';
import { useStaff } from '../session';

export function AdminScreen() {
  return (
    <div className="screen screen-admin">
      <header className="screen-header">
        <div>
          <h1>Staff & API keys</h1>
          <p className="subtle">Who can use the back office, and which services may call the API.</p>
        </div>
      </header>
      <div className="admin-grid">
        <StaffPanel />
        <ApiKeysPanel />
      </div>
    </div>
  );
}

function StaffPanel() {
  const api = useApi();
  const me = useStaff();
  const queryClient = useQueryClient();
  const toast = useToast();
  const staff = useStaffList();
  const ids = useId();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<StaffRole>('viewer');
  const [formError, setFormError] = useState<string | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: queryKeys.staff });

  const create = useMutation({
    mutationFn: (input: { email: string; password: string; role: StaffRole }) => api.backoffice.staff.create.mutate(input),
    onSuccess: (created) => {
      toast.show('success', `${created.email} can now log in as ${created.role}.`);
      setEmail('');
      setPassword('');
      setFormError(null);
      void refresh();
    },
    onError: (error) => setFormError(describeError(error)),
  });
  const setDisabled = useMutation({
    mutationFn: (input: { staffId: string; disabled: boolean }) => api.backoffice.staff.setDisabled.mutate(input),
    onSuccess: () => void refresh(),
    onError: (error) => toast.show('error', describeError(error)),
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!/^\S+@\S+\.\S+$/.test(email.trim())) return setFormError('Enter a valid email address.');
    if (password.length < 12) return setFormError('The password needs at least 12 characters.');
    create.mutate({ email: email.trim(), password, role });
  }

  return (
    <section className="card" aria-labelledby={`${ids}-title`}>
      <h2 id={`${ids}-title`}>Staff</h2>
      {staff.isPending ? (
        <Spinner />
      ) : staff.isError ? (
        <ErrorState message={describeError(staff.error, 'load')} onRetry={() => void staff.refetch()} />
      ) : staff.data.length === 0 ? (
        <EmptyState title="No staff yet" />
      ) : (
        <table className="admin-table">
          <thead>
            <tr>
              <th>Email</th>
              <th>Role</th>
              <th>Status</th>
              <th>Since</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {staff.data.map((member) => (
              <tr key={member.id} className={member.disabled ? 'row-disabled' : undefined}>
                <td>
                  {member.email}
                  {member.id === me.id ? <span className="subtle"> (you)</span> : null}
                </td>
                <td>
                  <Tag value={member.role} />
                </td>
                <td>{member.disabled ? <Tag value="disabled" /> : <Tag value="active" />}</td>
                <td>
                  <Time value={member.createdAt} />
                </td>
                <td className="num">
                  <button
                    type="button"
                    className="button small"
                    disabled={member.id === me.id || setDisabled.isPending}
                    title={member.id === me.id ? 'You cannot disable yourself' : undefined}
                    onClick={() => setDisabled.mutate({ staffId: member.id, disabled: !member.disabled })}
                  >
                    {member.disabled ? 'Enable' : 'Disable'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="inline-form" onSubmit={submit} noValidate>
        <h3>Add staff</h3>
        <div className="form-row">
          <label>
            Email
            <input type="email" value={email} onChange={(event) => setEmail(event.target.value)} autoComplete="off" />
          </label>
          <label>
            Password
            <input type="password" value={password} onChange={(event) => setPassword(event.target.value)} autoComplete="new-password" placeholder="at least 12 characters" />
          </label>
          <label>
            Role
            <select value={role} onChange={(event) => setRole(event.target.value as StaffRole)}>
              {STAFF_ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" className="button button-primary" disabled={create.isPending}>
            {create.isPending ? 'Adding…' : 'Add'}
          </button>
        </div>
        {formError ? (
          <p className="form-error" role="alert">
            {formError}
          </p>
        ) : null}
      </form>
    </section>
  );
}

function ApiKeysPanel() {
  const api = useApi();
  const queryClient = useQueryClient();
  const toast = useToast();
  const keys = useApiKeys();
  const ids = useId();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<ApiKeyScope[]>([...CUSTOMER_SCOPES]);
  const [formError, setFormError] = useState<string | null>(null);
  const [revealed, setRevealed] = useState<{ name: string; key: string } | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: queryKeys.apiKeys });

  const create = useMutation({
    mutationFn: (input: { name: string; scopes: ApiKeyScope[] }) => api.backoffice.apiKeys.create.mutate(input),
    onSuccess: (created, input) => {
      setRevealed({ name: input.name, key: created.key });
      setName('');
      setFormError(null);
      void refresh();
    },
    onError: (error) => setFormError(describeError(error)),
  });
  const setDisabled = useMutation({
    mutationFn: (input: { apiKeyId: string; disabled: boolean }) => api.backoffice.apiKeys.setDisabled.mutate(input),
    onSuccess: () => void refresh(),
    onError: (error) => toast.show('error', describeError(error)),
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!name.trim()) return setFormError('Name the key after the service that will use it.');
    if (scopes.length === 0) return setFormError('Choose at least one scope.');
    create.mutate({ name: name.trim(), scopes });
  }

  return (
    <section className="card" aria-labelledby={`${ids}-title`}>
      <h2 id={`${ids}-title`}>API keys</h2>
      {revealed ? (
        <div className="secret-reveal" role="status">
          <strong>New key “{revealed.name}”. Copy it now: it is never shown again.</strong>
          <div className="secret-row">
            <code className="selectable" data-testid="new-api-key">
              {revealed.key}
            </code>
            <button
              type="button"
              className="button small"
              onClick={() =>
                void navigator.clipboard.writeText(revealed.key).then(
                  () => toast.show('success', 'Key copied.'),
                  () => toast.show('error', 'Could not copy; select the key and copy it by hand.'),
                )
              }
            >
              Copy
            </button>
            <button type="button" className="button small" onClick={() => setRevealed(null)}>
              Done
            </button>
          </div>
        </div>
      ) : null}
      {keys.isPending ? (
        <Spinner />
      ) : keys.isError ? (
        <ErrorState message={describeError(keys.error, 'load')} onRetry={() => void keys.refetch()} />
      ) : keys.data.length === 0 ? (
        <EmptyState title="No API keys yet" />
      ) : (
        <table className="admin-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Key</th>
              <th>Scopes</th>
              <th>Last used</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {keys.data.map((key) => (
              <tr key={key.id} className={key.disabled ? 'row-disabled' : undefined}>
                <td>
                  {key.name}
                  {key.disabled ? (
                    <>
                      {' '}
                      <Tag value="disabled" />
                    </>
                  ) : null}
                </td>
                <td className="mono">{key.prefix}…</td>
                <td>
                  <span className="scopes">
                    {key.scopes.map((scope) => (
                      <span key={scope} className="scope">
                        {scope}
                      </span>
                    ))}
                  </span>
                </td>
                <td>{key.lastUsedAt ? <Time value={key.lastUsedAt} /> : <span className="muted">never</span>}</td>
                <td className="num">
                  <button type="button" className="button small" disabled={setDisabled.isPending} onClick={() => setDisabled.mutate({ apiKeyId: key.id, disabled: !key.disabled })}>
                    {key.disabled ? 'Enable' : 'Disable'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="inline-form" onSubmit={submit} noValidate>
        <h3>Create key</h3>
        <div className="form-row">
          <label>
            Name
            <input value={name} onChange={(event) => setName(event.target.value)} placeholder="e.g. storefront" maxLength={100} />
          </label>
          <fieldset className="scope-picker">
            <legend>Scopes</legend>
            {API_KEY_SCOPES.map((scope) => (
              <label key={scope} className="check">
                <input
                  type="checkbox"
                  checked={scopes.includes(scope)}
                  onChange={(event) => setScopes((all) => (event.target.checked ? [...all, scope] : all.filter((s) => s !== scope)))}
                />
                {scope}
              </label>
            ))}
          </fieldset>
          <button type="submit" className="button button-primary" disabled={create.isPending}>
            {create.isPending ? 'Creating…' : 'Create'}
          </button>
        </div>
        {formError ? (
          <p className="form-error" role="alert">
            {formError}
          </p>
        ) : null}
      </form>
    </section>
  );
}
