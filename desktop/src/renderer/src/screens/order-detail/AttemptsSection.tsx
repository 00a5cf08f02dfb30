import type { ReactNode } from 'react';
import type { AttemptDto } from '@orders/shared';
import { AttemptBadge } from '../../components/StatusBadge';
import { Time } from '../../components/Time';
import { money } from '../../format';
import { ListSection } from './ListSection';

/** Every payment attempt of the order, oldest first, each with a re-sync for operators. */
export function AttemptsSection({ attempts, canResync, onResync }: { attempts: AttemptDto[]; canResync: boolean; onResync(attempt: AttemptDto): void }) {
  return (
    <ListSection title="Payment attempts" count={attempts.length} empty="No payment attempt yet.">
      <ol className="timeline" aria-label="Payment attempts">
        {attempts.map((attempt) => (
          <AttemptItem key={attempt.id} attempt={attempt} canResync={canResync} onResync={() => onResync(attempt)} />
        ))}
      </ol>
    </ListSection>
  );
}

/** One term of the attempt's facts and its definition. */
function Fact({ term, className, children }: { term: string; className?: string; children: ReactNode }) {
  return (
    <>
      <dt>{term}</dt>
      <dd className={className}>{children}</dd>
    </>
  );
}

function AttemptItem({ attempt, canResync, onResync }: { attempt: AttemptDto; canResync: boolean; onResync(): void }) {
  return (
    <li className={`timeline-item attempt-${attempt.status}`} data-attempt-id={attempt.id}>
      <div className="timeline-head">
        <AttemptBadge status={attempt.status} />
        <span className="mono selectable">{attempt.externalId ?? 'not sent to PayPal'}</span>
        <span className="money">{money(attempt.amount, attempt.currency)}</span>
        <span className="subtle">
          <Time value={attempt.createdAt} absolute />
        </span>
        {attempt.externalId ? (
          <button type="button" className="link-button" disabled={!canResync} title={canResync ? undefined : 'Requires the operator role'} onClick={onResync}>
            Re-sync
          </button>
        ) : null}
      </div>
      <dl className="facts compact">
        {attempt.saleId ? (
          <Fact term="Sale" className="mono selectable">
            {attempt.saleId} {attempt.saleState ? <span className="subtle">({attempt.saleState})</span> : null}
          </Fact>
        ) : null}
        {attempt.payerEmail || attempt.payerName ? <Fact term="Payer">{[attempt.payerName, attempt.payerEmail].filter(Boolean).join(' · ')}</Fact> : null}
        {attempt.failureReason ? (
          <Fact term="Failure" className="text-bad">
            {attempt.failureReason}
          </Fact>
        ) : null}
        {attempt.succeededAt ? (
          <Fact term="Succeeded">
            <Time value={attempt.succeededAt} absolute />
          </Fact>
        ) : null}
        <Fact term="Last change">
          <Time value={attempt.updatedAt} absolute />
        </Fact>
      </dl>
    </li>
  );
}
