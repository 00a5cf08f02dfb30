import { Migration } from '@mikro-orm/migrations';

export class Migration20261130145923_event_vocabulary extends Migration {

  override name = 'Migration20261130145923_event_vocabulary';

  override up(): void | Promise<void> {
    this.addSql(`alter table "payment_event" add constraint "payment_event_source_check" check (source in ('ipn', 'webhook', 'return', 'cancel', 'provider', 'update_attempt', 'resync'));`);
    this.addSql(`alter table "payment_event" add constraint "payment_event_verification_check" check (verification in ('pending', 'verified', 'invalid', 'not_applicable'));`);
    this.addSql(`alter table "payment_event" add constraint "payment_event_processing_check" check (processing in ('received', 'processed', 'ignored', 'flagged', 'duplicate', 'unmatched', 'parked'));`);
    this.addSql(`alter table "payment_event" add constraint "payment_event_flag_kind_check" check (flag_kind in ('amount_mismatch', 'double_payment', 'paid_after_cancel', 'conflicting_sale', 'unexpected_state', 'refund_exceeds_total', 'receiver_mismatch', 'signature_invalid', 'no_open_reversal', 'unreadable_amount'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "payment_event" drop constraint "payment_event_source_check";`);
    this.addSql(`alter table "payment_event" drop constraint "payment_event_verification_check";`);
    this.addSql(`alter table "payment_event" drop constraint "payment_event_processing_check";`);
    this.addSql(`alter table "payment_event" drop constraint "payment_event_flag_kind_check";`);
  }

}
