import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';

/** The server's rule for a reason (backoffice `reason` schema): at least 3 characters after trimming. */
export const MIN_REASON_LENGTH = 3;
export const MAX_REASON_LENGTH = 2000;

export interface ReasonDialogProps {
  title: string;
  /** What will happen, in a sentence. */
  description?: ReactNode;
  confirmLabel: string;
  /** An example reason for this action: each action has its own. */
  placeholder?: string;
  /** Red confirm button for irreversible actions (refund, cancel). */
  destructive?: boolean;
  /** Extra fields above the reason (e.g. the refund amount). */
  children?: ReactNode;
  /** Checks the extra fields; a message blocks submission. */
  validate?: () => string | null;
  /** Resolve to close the dialog; reject to show the error and keep it open. */
  onSubmit(reason: string): Promise<unknown>;
  onCancel(): void;
  describeError?: (error: unknown) => string;
}

/**
 * Every staff action that changes an order goes through here: the reason lands in the audit log.
 * Escape or Cancel closes it; while the action runs, it cannot be submitted twice.
 */
export function ReasonDialog(props: ReasonDialogProps) {
  const { title, description, confirmLabel, destructive, children, validate, onSubmit, onCancel } = props;
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const titleId = useId();
  const reasonId = useId();
  const errorId = useId();
  const reasonRef = useRef<HTMLTextAreaElement>(null);
  const previousFocus = useRef<Element | null>(null);

  useEffect(() => {
    previousFocus.current = document.activeElement;
    reasonRef.current?.focus();
    return () => {
      if (previousFocus.current instanceof HTMLElement) previousFocus.current.focus();
    };
  }, []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (pending) return;
    const trimmed = reason.trim();
    if (trimmed.length < MIN_REASON_LENGTH) {
      setError(`A reason is required (at least ${MIN_REASON_LENGTH} characters): it is recorded in the audit trail.`);
      reasonRef.current?.focus();
      return;
    }
    const invalid = validate?.();
    if (invalid) {
      setError(invalid);
      return;
    }
    setError(null);
    setPending(true);
    try {
      await onSubmit(trimmed);
    } catch (failure) {
      setError(props.describeError ? props.describeError(failure) : failure instanceof Error ? failure.message : String(failure));
      setPending(false);
    }
  }

  return (
    <div className="dialog-backdrop" onMouseDown={(event) => event.target === event.currentTarget && !pending && onCancel()}>
      <form
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        onSubmit={submit}
        onKeyDown={(event) => {
          if (event.key === 'Escape' && !pending) {
            event.stopPropagation();
            onCancel();
          }
        }}
        noValidate
      >
        <h2 id={titleId}>{title}</h2>
        {description ? <div className="dialog-description">{description}</div> : null}
        {children}
        <label htmlFor={reasonId} className="field-label">
          Reason <span className="muted">(recorded in the audit trail)</span>
        </label>
        <textarea
          id={reasonId}
          ref={reasonRef}
          value={reason}
          maxLength={MAX_REASON_LENGTH}
          rows={3}
          required
          aria-invalid={error !== null && reason.trim().length < MIN_REASON_LENGTH}
          aria-describedby={error ? errorId : undefined}
          onChange={(event) => {
            setReason(event.target.value);
            if (error && event.target.value.trim().length >= MIN_REASON_LENGTH) setError(null);
          }}
          placeholder={props.placeholder ?? 'Why?'}
        />
        {error ? (
          <p id={errorId} className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onCancel} disabled={pending}>
            Cancel
          </button>
          <button type="submit" className={`button ${destructive ? 'button-danger' : 'button-primary'}`} disabled={pending}>
            {pending ? 'Working…' : confirmLabel}
          </button>
        </div>
      </form>
    </div>
  );
}
