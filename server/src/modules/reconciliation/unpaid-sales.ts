import { rowTrigger } from '../../db/triggers.js';

/*
 * The orders that may be unpaid while one of their attempts succeeded (paid at PayPal, not here),
 * noted by the database when a transaction commits such a state, so reconciliation reads a handful of
 * rows instead of every unpaid order merged with every succeeded attempt. That merge (order_unpaid_idx
 * with attempt_one_success_per_order, 250,000 and 750,000 index entries at 1,000,000 orders) was ~70 ms
 * of each summary: the dashboard's, /metrics' and the queue badge's floor.
 *
 * A note is only a candidate: reconciliation still checks the state itself (the order unpaid, the
 * attempt succeeded with its sale), so a note whose order was paid later lists nothing. Such a state can
 * only be reached by a transaction that
 *  - makes an attempt succeeded, or moves a succeeded attempt to another order: the attempt's trigger;
 *  - moves an order from a paid status to an unpaid one (the state machine never does): the order's;
 * both constraint triggers, deferred to the commit, when the order's status is final (a payment that
 * succeeds and pays its order in one transaction notes nothing: one primary-key probe). Rows written
 * with triggers off (session_replication_role = replica: the bench's bulk seed) must be noted by their
 * writer, as the migration's backfill notes the states already there.
 *
 * The table (order_id primary key, noted_at) is defined by its migration, not as an entity: nothing
 * reads or writes it through the ORM, and one more entity made the client's declaration build run out
 * of memory (see sale-ledger.ts).
 */
export const UNPAID_SALE_TABLE = 'unpaid_sale';

/** ORDER_STATUSES split by PAID_STATUSES (order-state.ts), written out: entities import no value from @orders/shared (a test holds them equal). */
export const UNPAID_STATUS_LIST = ['pending', 'failed', 'cancelled'] as const;
export const PAID_STATUS_LIST = ['paid', 'partially_refunded', 'refunded'] as const;
const quoted = (statuses: readonly string[]) => statuses.map((status) => `'${status}'`).join(', ');
const UNPAID = quoted(UNPAID_STATUS_LIST);
const PAID = quoted(PAID_STATUS_LIST);

/** On order_payment_attempt: a succeeded attempt whose order is unpaid when the transaction commits. */
export const ATTEMPT_UNPAID_SALE_TRIGGERS = [
  rowTrigger(
    'order_payment_attempt',
    'attempt_unpaid_sale',
    ['insert', 'update'],
    `new.status = 'succeeded'`,
    `insert into ${UNPAID_SALE_TABLE} (order_id, noted_at)
       select o.id, now() from "order" o where o.id = new.order_id and o.status in (${UNPAID})
       on conflict (order_id) do nothing;`,
    { updateOf: ['status', 'order_id'], atCommit: true },
  ),
];

/** On "order": a paid order made unpaid while one of its attempts succeeded. */
export const ORDER_UNPAID_SALE_TRIGGERS = [
  rowTrigger(
    'order',
    'order_unpaid_sale',
    ['update'],
    `old.status in (${PAID}) and new.status in (${UNPAID})`,
    `insert into ${UNPAID_SALE_TABLE} (order_id, noted_at)
       select new.id, now() where exists (select 1 from order_payment_attempt a where a.order_id = new.id and a.status = 'succeeded')
       on conflict (order_id) do nothing;`,
    { updateOf: ['status'], atCommit: true },
  ),
];

/** Notes the states already there: what a writer with triggers off (the bench's bulk seed) runs after its load. */
export const NOTE_UNPAID_SALES = `insert into ${UNPAID_SALE_TABLE} (order_id)
  select o.id from "order" o join order_payment_attempt s on s.order_id = o.id and s.status = 'succeeded'
   where o.status in (${UNPAID}) on conflict do nothing`;
