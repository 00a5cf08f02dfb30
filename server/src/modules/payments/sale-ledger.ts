import { rowTrigger } from '../../db/triggers.js';

/*
 * Per sale, what its applied money movements add up to, kept by the database in the transaction that
 * changes a movement (the trigger on money_movement below), so it can never disagree with the ledger.
 *
 * Why: reconciliation lists sales whose money out adds up wrong (a cancelled chargeback waiting for its
 * reversal, more refunded than captured). Summing the ledger for that read every refund, reversal and
 * capture: at 1,000,000 orders (880,000 movements) it took ~1.2 s, twice per summary, on every dashboard
 * and /metrics call. Here the two conditions are partial indexes holding only the sales in that state, so
 * the read is as small as the discrepancies. What an order's refunded amount is still comes from the
 * movements themselves (money-ledger.ts): this table only answers "which sales add up wrong".
 *
 * The table (sale_id primary key; captured, refunded, reversed, canceled bigint sums) and its two partial
 * indexes, sale_ledger_cancel_waiting_idx (canceled > reversed) and sale_ledger_over_returned_idx
 * (captured > 0 and refunded + greatest(0, reversed - canceled) > captured), are defined by their
 * migration (Migration20261130173457_sale_ledger), not as an entity: nothing reads or writes it through
 * the ORM, and one more entity in the ORM's types made the client package's declaration build (which
 * carries the router's types) run out of memory.
 *
 * Rows written with triggers off (session_replication_role = replica: the bench's bulk seed) must fill
 * this table themselves, as the migration's backfill does.
 */
export const SALE_LEDGER_TABLE = 'sale_ledger';

/** Adds `sign` × the movement row `row`'s amount to its sale's column for its kind. */
const add = (row: 'old' | 'new', sign: '+' | '-') => `insert into sale_ledger as l (sale_id, captured, refunded, reversed, canceled)
      values (${row}.sale_id,
              case when ${row}.kind = 'capture' then ${sign}${row}.amount else 0 end,
              case when ${row}.kind = 'refund' then ${sign}${row}.amount else 0 end,
              case when ${row}.kind = 'reversal' then ${sign}${row}.amount else 0 end,
              case when ${row}.kind = 'reversal_canceled' then ${sign}${row}.amount else 0 end)
      on conflict (sale_id) do update set captured = l.captured + excluded.captured, refunded = l.refunded + excluded.refunded,
                                          reversed = l.reversed + excluded.reversed, canceled = l.canceled + excluded.canceled;`;

/** On money_movement: an applied movement counts on its sale; one that stops being applied (or changes) counts no more. */
export const SALE_LEDGER_TRIGGERS = [
  rowTrigger(
    'money_movement',
    'money_movement_sale_ledger',
    ['insert', 'update', 'delete'],
    null,
    `if tg_op = 'UPDATE' and old.state = new.state and old.sale_id = new.sale_id and old.kind = new.kind and old.amount = new.amount then return null; end if;
    if tg_op <> 'INSERT' and old.state = 'applied' then ${add('old', '-')} end if;
    if tg_op <> 'DELETE' and new.state = 'applied' then ${add('new', '+')} end if;`,
  ),
];
