import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { useMutation, useQueryClient, type QueryKey, type UseQueryResult } from '@tanstack/react-query';
import { describeError } from '../../api/errors';
import { EmptyState, ErrorState, Spinner } from '../../components/States';
import { useToast } from '../../components/Toasts';

/** What every admin list holds: staff members and API keys alike are listed, created and disabled. */
interface AdminItem {
  id: string;
  disabled: boolean;
}

export interface AdminColumn<T> {
  header: string;
  className?: string;
  cell(item: T): ReactNode;
}

/**
 * The two mutations of an admin list. A failed create stays in the form (`formError`), a failed
 * enable/disable is a toast; both refresh the list when they succeed.
 */
export function useAdminMutations<TCreate, TCreated, TToggle>(options: {
  queryKey: QueryKey;
  create(input: TCreate): Promise<TCreated>;
  onCreated(created: TCreated, input: TCreate): void;
  setDisabled(input: TToggle): Promise<unknown>;
}) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const [formError, setFormError] = useState<string | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: options.queryKey });
  const create = useMutation({
    mutationFn: options.create,
    onSuccess: (created: TCreated, input: TCreate) => {
      options.onCreated(created, input);
      setFormError(null);
      void refresh();
    },
    onError: (error) => setFormError(describeError(error)),
  });
  const setDisabled = useMutation({
    mutationFn: options.setDisabled,
    onSuccess: () => void refresh(),
    onError: (error) => toast.show('error', describeError(error)),
  });
  return { create, setDisabled, formError, setFormError };
}

/** A card with the list (one row per item, ending in its Enable/Disable button) and the form that adds one. */
export function AdminPanel<T extends AdminItem>(props: {
  title: string;
  /** Shown above the list, e.g. a secret to copy once. */
  notice?: ReactNode;
  list: UseQueryResult<T[]>;
  emptyTitle: string;
  columns: AdminColumn<T>[];
  toggle: { pending: boolean; onToggle(item: T): void; blockedReason?(item: T): string | undefined };
  children: ReactNode;
}) {
  const ids = useId();
  const { list, toggle } = props;
  return (
    <section className="card" aria-labelledby={`${ids}-title`}>
      <h2 id={`${ids}-title`}>{props.title}</h2>
      {props.notice}
      {list.isPending ? (
        <Spinner />
      ) : list.isError ? (
        <ErrorState message={describeError(list.error, 'load')} onRetry={() => void list.refetch()} />
      ) : list.data.length === 0 ? (
        <EmptyState title={props.emptyTitle} />
      ) : (
        <table className="admin-table">
          <thead>
            <tr>
              {props.columns.map((column) => (
                <th key={column.header}>{column.header}</th>
              ))}
              <th />
            </tr>
          </thead>
          <tbody>
            {list.data.map((item) => {
              const blocked = toggle.blockedReason?.(item);
              return (
                <tr key={item.id} className={item.disabled ? 'row-disabled' : undefined}>
                  {props.columns.map((column) => (
                    <td key={column.header} className={column.className}>
                      {column.cell(item)}
                    </td>
                  ))}
                  <td className="num">
                    <button type="button" className="button small" disabled={blocked !== undefined || toggle.pending} title={blocked} onClick={() => toggle.onToggle(item)}>
                      {item.disabled ? 'Enable' : 'Disable'}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {props.children}
    </section>
  );
}

/** The add form under an admin list: its fields, one submit button, and the error that stopped it. */
export function AdminForm(props: { title: string; submitLabel: string; pendingLabel: string; pending: boolean; error: string | null; onSubmit(): void; children: ReactNode }) {
  function submit(event: FormEvent) {
    event.preventDefault();
    props.onSubmit();
  }
  return (
    <form className="inline-form" onSubmit={submit} noValidate>
      <h3>{props.title}</h3>
      <div className="form-row">
        {props.children}
        <button type="submit" className="button button-primary" disabled={props.pending}>
          {props.pending ? props.pendingLabel : props.submitLabel}
        </button>
      </div>
      {props.error ? (
        <p className="form-error" role="alert">
          {props.error}
        </p>
      ) : null}
    </form>
  );
}
