import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { describeError } from '../api/errors';
import { API_KEY_SCOPES, CUSTOMER_SCOPES, STAFF_ROLES, type ApiKeyScope, type StaffRole } from '@orders/shared';
import { useApi } from '../context';
import { queryKeys, useApiKeys, useStaffList } from '../api/queries';
import { Tag } from '../components/StatusBadge';
import { Time } from '../components/Time';
import { useToast } from '../components/Toasts';
import { useStaff } from '../session';
import { AdminForm, AdminPanel, useAdminMutations } from './admin/AdminPanel';

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
  const toast = useToast();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<StaffRole>('viewer');
  const staff = useStaffList();
  const { create, setDisabled, formError, setFormError } = useAdminMutations({
    queryKey: queryKeys.staff,
    create: (input: { email: string; password: string; role: StaffRole }) => api.backoffice.staff.create.mutate(input),
    onCreated: (created) => {
      toast.show('success', `${created.email} can now log in as ${created.role}.`);
      setEmail('');
      setPassword('');
    },
    setDisabled: (input: { staffId: string; disabled: boolean }) => api.backoffice.staff.setDisabled.mutate(input),
  });

  // Another member's role, changed in place (it applies to their open sessions from their next call).
  const queryClient = useQueryClient();
  const setMemberRole = useMutation({
    mutationFn: (input: { staffId: string; role: StaffRole }) => api.backoffice.staff.setRole.mutate(input),
    onSuccess: (member) => {
      toast.show('success', `${member.email} is now ${member.role}.`);
      void queryClient.invalidateQueries({ queryKey: queryKeys.staff });
    },
    onError: (error) => toast.show('error', describeError(error)),
  });

  function submit() {
    if (!/^\S+@\S+\.\S+$/.test(email.trim())) return setFormError('Enter a valid email address.');
    if (password.length < 12) return setFormError('The password needs at least 12 characters.');
    create.mutate({ email: email.trim(), password, role });
  }

  return (
    <AdminPanel
      title="Staff"
      list={staff}
      emptyTitle="No staff yet"
      columns={[
        {
          header: 'Email',
          cell: (member) => (
            <>
              {member.email}
              {member.id === me.id ? <span className="subtle"> (you)</span> : null}
            </>
          ),
        },
        {
          header: 'Role',
          cell: (member) =>
            member.id === me.id ? (
              <Tag value={member.role} />
            ) : (
              <select
                className="role-select"
                aria-label={`Role of ${member.email}`}
                value={member.role}
                disabled={setMemberRole.isPending}
                onChange={(event) => setMemberRole.mutate({ staffId: member.id, role: event.target.value as StaffRole })}
              >
                {STAFF_ROLES.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
            ),
        },
        { header: 'Status', cell: (member) => (member.disabled ? <Tag value="disabled" /> : <Tag value="active" />) },
        { header: 'Since', cell: (member) => <Time value={member.createdAt} /> },
      ]}
      toggle={{
        pending: setDisabled.isPending,
        blockedReason: (member) => (member.id === me.id ? 'You cannot disable yourself' : undefined),
        onToggle: (member) => setDisabled.mutate({ staffId: member.id, disabled: !member.disabled }),
      }}
    >
      <AdminForm title="Add staff" submitLabel="Add" pendingLabel="Adding…" pending={create.isPending} error={formError} onSubmit={submit}>
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
      </AdminForm>
    </AdminPanel>
  );
}

function ApiKeysPanel() {
  const api = useApi();
  const toast = useToast();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<ApiKeyScope[]>([...CUSTOMER_SCOPES]);
  const [revealed, setRevealed] = useState<{ name: string; key: string } | null>(null);
  const keys = useApiKeys();
  const { create, setDisabled, formError, setFormError } = useAdminMutations({
    queryKey: queryKeys.apiKeys,
    create: (input: { name: string; scopes: ApiKeyScope[] }) => api.backoffice.apiKeys.create.mutate(input),
    onCreated: (created, input) => {
      setRevealed({ name: input.name, key: created.key });
      setName('');
    },
    setDisabled: (input: { apiKeyId: string; disabled: boolean }) => api.backoffice.apiKeys.setDisabled.mutate(input),
  });

  function submit() {
    if (!name.trim()) return setFormError('Name the key after the service that will use it.');
    if (scopes.length === 0) return setFormError('Choose at least one scope.');
    create.mutate({ name: name.trim(), scopes });
  }

  const notice = revealed ? (
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
  ) : null;

  return (
    <AdminPanel
      title="API keys"
      notice={notice}
      list={keys}
      emptyTitle="No API keys yet"
      columns={[
        {
          header: 'Name',
          cell: (key) => (
            <>
              {key.name}
              {key.disabled ? (
                <>
                  {' '}
                  <Tag value="disabled" />
                </>
              ) : null}
            </>
          ),
        },
        { header: 'Key', className: 'mono', cell: (key) => `${key.prefix}…` },
        {
          header: 'Scopes',
          cell: (key) => (
            <span className="scopes">
              {key.scopes.map((scope) => (
                <span key={scope} className="scope">
                  {scope}
                </span>
              ))}
            </span>
          ),
        },
        { header: 'Last used', cell: (key) => (key.lastUsedAt ? <Time value={key.lastUsedAt} /> : <span className="muted">never</span>) },
      ]}
      toggle={{ pending: setDisabled.isPending, onToggle: (key) => setDisabled.mutate({ apiKeyId: key.id, disabled: !key.disabled }) }}
    >
      <AdminForm title="Create key" submitLabel="Create" pendingLabel="Creating…" pending={create.isPending} error={formError} onSubmit={submit}>
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
      </AdminForm>
    </AdminPanel>
  );
}
