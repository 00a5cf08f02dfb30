import { Migration } from '@mikro-orm/migrations';

const BEFORE = ['amount_mismatch', 'double_payment', 'paid_after_cancel', 'conflicting_sale', 'unexpected_state', 'refund_exceeds_total', 'receiver_mismatch', 'signature_invalid', 'no_open_reversal', 'unreadable_amount'];
const list = (kinds: string[]) => kinds.map((kind) => `'${kind}'`).join(', ');

/**
 * A flagged event may say `dispute_opened`: PayPal opened a case (IPN txn_type new_case: a dispute, a
 * chargeback, a complaint) on one of our sales. Such messages were stored and answered "needs no
 * action", so staff learnt of a chargeback only when its money left.
 */
export class Migration20261203070000_dispute_flag extends Migration {

  override name = 'Migration20261203070000_dispute_flag';

  override up(): void | Promise<void> {
    this.addSql(`alter table "payment_event" drop constraint "payment_event_flag_kind_check";`);
    this.addSql(`alter table "payment_event" add constraint "payment_event_flag_kind_check" check (flag_kind in (${list([...BEFORE, 'dispute_opened'])}));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`update "payment_event" set flag_kind = 'unexpected_state' where flag_kind = 'dispute_opened';`);
    this.addSql(`alter table "payment_event" drop constraint "payment_event_flag_kind_check";`);
    this.addSql(`alter table "payment_event" add constraint "payment_event_flag_kind_check" check (flag_kind in (${list(BEFORE)}));`);
  }

}
