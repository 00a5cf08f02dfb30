import { Migration } from '@mikro-orm/migrations';
import { LATEST_ATTEMPT_FILL, LATEST_ATTEMPT_TRIGGERS } from '../../modules/backoffice/latest-attempt.js';

/*
 * "order" carries its latest attempt's PayPal payment id and payer email (latest-attempt.ts), so a
 * back-office page no longer looks each row's latest attempt up.
 *
 * Without one long lock: the columns come in empty (no rewrite), with the triggers that keep them
 * from then on, in one transaction; the orders already there are filled in batches of 20,000, one
 * transaction each (LATEST_ATTEMPT_FILL), then "order" is vacuumed. Measured at 1,000,000 seeded
 * orders (918,180 with an attempt): the fill took 89 s, each batch's orders locked ~1.8 s.
 */
export class Migration20261203190000_latest_attempt extends Migration {

  override name = 'Migration20261203190000_latest_attempt';

  override isTransactional(): boolean {
    return false;
  }

  override up(): void | Promise<void> {
    this.addSql(
      [
        // (Written to run again after a failure part way: this migration is not one transaction.)
        `alter table "order" add column if not exists "latest_attempt_external_id" varchar(64) null, add column if not exists "latest_attempt_payer_email" varchar(254) null`,
        ...LATEST_ATTEMPT_TRIGGERS.flatMap((t) => [`drop trigger if exists "${t.name}" on "order_payment_attempt"`, t.expression.replace(/;$/, '')]),
      ].join(';\n') + ';',
    );
    this.addSql(LATEST_ATTEMPT_FILL(20_000) + ';');
    this.addSql(`call order_latest_attempt_fill();`);
    this.addSql(`drop procedure order_latest_attempt_fill();`);
    // Every filled order has a new row version: the visibility map is set again (index-only scans of
    // "order"'s indexes: the status walk of a fragment search), the old versions' space freed.
    this.addSql(`vacuum (analyze) "order";`);
  }

  override down(): void | Promise<void> {
    this.addSql(
      [
        ...LATEST_ATTEMPT_TRIGGERS.flatMap((t) => [
          `drop trigger if exists "${t.name}" on "order_payment_attempt"`,
          `drop function if exists "order_payment_attempt_${t.name}_fn"()`,
        ]),
        `alter table "order" drop column "latest_attempt_external_id", drop column "latest_attempt_payer_email"`,
      ].join(';\n') + ';',
    );
  }

}
