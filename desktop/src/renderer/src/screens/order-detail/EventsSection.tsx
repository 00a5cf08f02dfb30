import { NOTIFICATION_SOURCES, type PaymentEventDto, type PaymentEventSource } from '@orders/shared';
import { Tag } from '../../components/StatusBadge';
import { Time } from '../../components/Time';
import { duration, formatExact, humanize, money, prettyJson } from '../../format';
import { ListSection } from './ListSection';

/** Where a payment event came from, in the words staff use. */
const SOURCE_LABELS: Record<PaymentEventSource, string> = {
  ipn: 'IPN',
  webhook: 'Webhook',
  provider: 'PayPal API',
  return: 'Buyer return',
  cancel: 'Buyer cancel',
  update_attempt: 'Reported by service',
  resync: 'Re-sync',
};

/** As it arrives over JSON, where the `unknown` payload becomes optional. */
export type EventView = Omit<PaymentEventDto, 'payload'> & { payload?: unknown };

/** Everything PayPal (or a caller) told us about the order, each message exactly as received. */
export function EventsSection({ events }: { events: EventView[] }) {
  const listed = new Set(events.map((event) => event.id));
  return (
    <ListSection title="Payment events" count={events.length} empty="Nothing received from PayPal for this order.">
      <ol className="events" aria-label="Payment events">
        {events.map((event) => (
          <EventItem key={event.id} event={event} listed={listed} />
        ))}
      </ol>
    </ListSection>
  );
}

/** IPNs and webhooks are processed by the job queue after they are stored; every other event is applied as it arrives. */
const QUEUED_SOURCES: readonly PaymentEventSource[] = NOTIFICATION_SOURCES;

/**
 * How long after its arrival a queued notification was processed: the list is in order of arrival,
 * and an IPN that came first can be processed after the API answer behind it ("already applied").
 */
function processedAfter(event: EventView): { text: string; title: string } | null {
  if (!event.processedAt || !QUEUED_SOURCES.includes(event.source)) return null;
  const seconds = Math.max(0, (Date.parse(event.processedAt) - Date.parse(event.createdAt)) / 1000);
  return { text: `in ${duration(seconds)}`, title: `processed ${formatExact(event.processedAt)}` };
}

/**
 * What the message says happened: PayPal's status (an IPN's payment_status, a webhook's event type),
 * else an IPN's txn_type (a case PayPal opened, `new_case`, has no payment_status). Our own events
 * without one (a buyer's return, a re-sync) have their source's badge and their outcome: nothing here.
 */
function headline(event: EventView): string | null {
  if (event.providerStatus) return event.providerStatus;
  if (event.source !== 'ipn') return null;
  return (event.raw !== null ? new URLSearchParams(event.raw).get('txn_type') : null) || '(no status)';
}

/** An event id in an outcome: the message a duplicate repeats ("already processed as IPN event …", "already applied by webhook event …"). */
const NAMED_EVENT = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/i;

/** Brings the listed event `id` into view and focus (its item takes focus for the keyboard and screen readers). */
function showEvent(id: string) {
  const item = document.querySelector<HTMLElement>(`[data-event-id="${CSS.escape(id)}"]`);
  item?.scrollIntoView?.({ block: 'center', behavior: 'smooth' });
  item?.focus({ preventScroll: true });
}

/** What became of the message; the event it names, when listed on this page too, is a link to it. */
function Outcome({ text, listed }: { text: string; listed: ReadonlySet<string> }) {
  const named = NAMED_EVENT.exec(text);
  if (!named || !listed.has(named[0])) return <p className="event-outcome">{text}</p>;
  const id = named[0];
  return (
    <p className="event-outcome">
      {text.slice(0, named.index)}
      <button type="button" className="link-button mono" title="Show that message" onClick={() => showEvent(id)}>
        {id}
      </button>
      {text.slice(named.index + id.length)}
    </p>
  );
}

function EventItem({ event, listed }: { event: EventView; listed: ReadonlySet<string> }) {
  const processed = processedAfter(event);
  const said = headline(event);
  return (
    <li className="event" data-event-id={event.id} tabIndex={-1}>
      <div className="event-head">
        <span className="badge tone-info">{SOURCE_LABELS[event.source]}</span>
        {said !== null ? <strong>{said}</strong> : null}
        {event.amount !== null ? <span className="money">{money(event.amount, event.currency)}</span> : null}
        {event.txnId ? <span className="mono subtle">txn {event.txnId}</span> : null}
        {event.parentTxnId ? <span className="mono subtle">parent {event.parentTxnId}</span> : null}
        <span className="spacer" />
        {event.verification !== 'not_applicable' ? <Tag value={event.verification} /> : null}
        <Tag value={event.processing} />
        {processed ? (
          <span className="subtle" title={processed.title}>
            {processed.text}
          </span>
        ) : null}
        <span className="subtle">
          <Time value={event.createdAt} absolute />
        </span>
      </div>
      {event.outcome ? <Outcome text={event.outcome} listed={listed} /> : null}
      {event.raw !== null ? (
        <>
          <div className="field-label">{event.source === 'ipn' ? 'Raw IPN' : 'Raw message'}, exactly as received</div>
          <pre className="raw" data-testid="raw-event">
            {event.raw}
          </pre>
        </>
      ) : null}
      {event.payload !== null && event.payload !== undefined ? (
        <details>
          <summary>Parsed</summary>
          <pre className="raw">{prettyJson(event.payload)}</pre>
        </details>
      ) : null}
    </li>
  );
}
