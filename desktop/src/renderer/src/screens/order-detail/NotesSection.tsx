import { useId, useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { backoffice, type OrderNoteDto } from '@orders/shared';
import { describeError } from '../../api/errors';
import { queryKeys } from '../../api/queries';
import { Time } from '../../components/Time';
import { useToast } from '../../components/Toasts';
import { useApi } from '../../context';

/** Internal notes on the order (never shown to the customer): who wrote each and when, and a form to add one when the caller may. */
export function NotesSection({ orderId, notes, canAdd }: { orderId: string; notes: OrderNoteDto[]; canAdd: boolean }) {
  return (
    <section className="card" aria-label="Notes">
      <h2>
        Notes <span className="count">{notes.length}</span>
      </h2>
      {notes.length === 0 ? (
        <p className="muted">No notes yet.</p>
      ) : (
        <ul className="notes">
          {notes.map((note) => (
            <li key={note.id} className="note">
              <div className="note-head">
                <span className="note-author">{note.staffEmail}</span>
                <Time value={note.createdAt} absolute className="muted" />
              </div>
              {/* Text, never markup: React escapes it. */}
              <p className="note-body">{note.body}</p>
            </li>
          ))}
        </ul>
      )}
      {canAdd ? <AddNoteForm orderId={orderId} /> : null}
    </section>
  );
}

function AddNoteForm({ orderId }: { orderId: string }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const toast = useToast();
  const bodyId = useId();
  const errorId = useId();
  const [body, setBody] = useState('');
  const [error, setError] = useState<string | null>(null);
  const addNote = useMutation({
    mutationFn: (input: { orderId: string; body: string }) => api.backoffice.orders.addNote.mutate(input),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.orderDetail(orderId) }),
  });

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (addNote.isPending) return;
    const trimmed = body.trim();
    if (trimmed.length === 0) {
      setError('Write something first.');
      return;
    }
    setError(null);
    try {
      await addNote.mutateAsync({ orderId, body: trimmed });
      setBody('');
      toast.show('success', 'Note added.');
    } catch (failure) {
      setError(describeError(failure));
    }
  }

  return (
    <form className="inline-form note-form" onSubmit={submit} noValidate>
      <label htmlFor={bodyId} className="field-label">
        Add an internal note <span className="muted">(staff only; also in the audit trail)</span>
      </label>
      <textarea
        id={bodyId}
        rows={3}
        value={body}
        maxLength={backoffice.NOTE_MAX_LENGTH}
        aria-invalid={error !== null}
        aria-describedby={error ? errorId : undefined}
        onChange={(event) => {
          setBody(event.target.value);
          if (error) setError(null);
        }}
        placeholder="e.g. Customer called: the lamp arrived broken, photos by email"
      />
      {error ? (
        <p id={errorId} className="form-error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="form-row">
        <span className="muted">
          {body.length} / {backoffice.NOTE_MAX_LENGTH}
        </span>
        <span className="spacer" />
        <button type="submit" className="button button-primary" disabled={addNote.isPending}>
          {addNote.isPending ? 'Adding…' : 'Add note'}
        </button>
      </div>
    </form>
  );
}
