import { Migration } from '@mikro-orm/migrations';

export class Migration20261130081007_ledger extends Migration {

  override name = 'Migration20261130081007_ledger';

  override up(): void | Promise<void> {
    this.addSql(`create table "money_movement" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "sale_id" varchar(64) not null, "kind" varchar(24) not null, "amount" int not null, "currency" varchar(3) not null, "state" varchar(16) not null, "provider_txn_id" varchar(64) null, "order_id" uuid null, "attempt_id" uuid null, "event_id" uuid null, "reason" text null, primary key ("id"));`);
    this.addSql(`alter table "money_movement" add constraint "money_movement_provider_txn_unique" unique ("provider_txn_id");`);
    this.addSql(`create index "money_movement_sale_idx" on "money_movement" ("sale_id", "state");`);
    this.addSql(`create index "money_movement_order_idx" on "money_movement" ("order_id");`);
    this.addSql(`create index "money_movement_parked_idx" on "money_movement" ("created_at") where state = 'parked';`);

    this.addSql(`alter table "order_payment_attempt" add "execute_started_at" timestamptz null;`);

    this.addSql(`alter table "order_refund" add "kind" varchar(16) not null default 'order';`);
    this.addSql(`alter table "order_refund" add constraint "order_refund_kind_check" check (kind in ('order', 'duplicate'));`);

    this.addSql(`alter table "money_movement" add constraint "money_movement_order_id_foreign" foreign key ("order_id") references "order" ("id") on delete set null;`);
    this.addSql(`alter table "money_movement" add constraint "money_movement_attempt_id_foreign" foreign key ("attempt_id") references "order_payment_attempt" ("id") on delete set null;`);
    this.addSql(`alter table "money_movement" add constraint "money_movement_event_id_foreign" foreign key ("event_id") references "payment_event" ("id") on delete set null;`);
    this.addSql(`alter table "money_movement" add constraint "money_movement_amount_check" check (amount > 0);`);
    this.addSql(`alter table "money_movement" add constraint "money_movement_kind_check" check (kind in ('capture', 'refund', 'reversal', 'reversal_canceled'));`);
    this.addSql(`alter table "money_movement" add constraint "money_movement_state_check" check (state in ('parked', 'applied', 'rejected'));`);

    // What the ledger would have recorded: each captured sale, and each order's refunds so far as one movement.
    this.addSql(`insert into "money_movement" ("id", "created_at", "updated_at", "sale_id", "kind", "amount", "currency", "state", "provider_txn_id", "order_id", "attempt_id", "reason")
      select gen_random_uuid(), coalesce(a.succeeded_at, a.updated_at), now(), a.sale_id, 'capture', a.amount, a.currency, 'applied', a.sale_id, a.order_id, a.id, 'recorded before the ledger'
        from "order_payment_attempt" a where a.sale_id is not null and a.sale_id not like 'manual-%' and a.amount > 0 and (a.status = 'succeeded' or a.sale_state in ('completed', 'refunded', 'partially_refunded'));`);
    this.addSql(`insert into "money_movement" ("id", "created_at", "updated_at", "sale_id", "kind", "amount", "currency", "state", "order_id", "reason")
      select gen_random_uuid(), o.updated_at, now(), o.payment_transaction_id, 'refund', o.refunded_amount, o.currency, 'applied', o.id, 'refunds recorded before the ledger'
        from "order" o where o.refunded_amount > 0 and o.payment_transaction_id is not null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "money_movement" cascade;`);

    this.addSql(`alter table "order_payment_attempt" drop column "execute_started_at";`);

    this.addSql(`alter table "order_refund" drop constraint "order_refund_kind_check";`);
    this.addSql(`alter table "order_refund" drop column "kind";`);
  }

}
