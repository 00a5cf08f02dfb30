import { Migration } from '@mikro-orm/migrations';

export class Migration20261123110626_backoffice extends Migration {

  override name = 'Migration20261123110626_backoffice';

  override up(): void | Promise<void> {
    this.addSql(`create table "reconciliation_resolution" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "discrepancy_id" varchar(200) not null, "kind" varchar(32) not null, "order_id" uuid null, "staff_id" uuid not null, "reason" text not null, primary key ("id"));`);
    this.addSql(`alter table "reconciliation_resolution" add constraint "reconciliation_resolution_discrepancy_unique" unique ("discrepancy_id");`);

    this.addSql(`create table "order_refund" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "order_id" uuid not null, "attempt_id" uuid null, "sale_id" varchar(64) not null, "amount" int not null, "currency" varchar(3) not null, "status" varchar(16) not null, "provider_refund_id" varchar(64) null, "staff_id" uuid null, "reason" text not null, "failure_reason" text null, "raw_response" jsonb null, "completed_at" timestamptz null, primary key ("id"));`);
    this.addSql(`alter table "order_refund" add constraint "order_refund_provider_refund_id_unique" unique ("provider_refund_id");`);
    this.addSql(`create index "order_refund_order_idx" on "order_refund" ("order_id", "created_at");`);

    this.addSql(`create index "order_status_total_idx" on "order" ("status", "total", "id");`);
    this.addSql(`create index "order_currency_total_idx" on "order" ("currency", "total", "id");`);

    this.addSql(`create index "attempt_extra_capture_idx" on "order_payment_attempt" ("order_id") where sale_id is not null and status <> 'succeeded';`);

    this.addSql(`alter table "payment_event" add "flag_kind" varchar(32) null;`);

    this.addSql(`alter table "reconciliation_resolution" add constraint "reconciliation_resolution_order_id_foreign" foreign key ("order_id") references "order" ("id") on delete set null;`);
    this.addSql(`alter table "reconciliation_resolution" add constraint "reconciliation_resolution_staff_id_foreign" foreign key ("staff_id") references "staff_user" ("id");`);

    this.addSql(`alter table "order_refund" add constraint "order_refund_order_id_foreign" foreign key ("order_id") references "order" ("id");`);
    this.addSql(`alter table "order_refund" add constraint "order_refund_attempt_id_foreign" foreign key ("attempt_id") references "order_payment_attempt" ("id") on delete set null;`);
    this.addSql(`alter table "order_refund" add constraint "order_refund_staff_id_foreign" foreign key ("staff_id") references "staff_user" ("id") on delete set null;`);
    this.addSql(`alter table "order_refund" add constraint "order_refund_amount_check" check (amount > 0);`);
    this.addSql(`alter table "order_refund" add constraint "order_refund_status_check" check (status in ('requested', 'completed', 'failed'));`);

    // Written by hand (the generator knows no triggers): live updates for the back office. Every
    // instance LISTENs on order_changes; NOTIFY is sent at commit, so only committed changes travel.
    this.addSql(`create function "order_changes_notify"() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE' and new.status is not distinct from old.status
     and new.payment_status is not distinct from old.payment_status
     and new.refunded_amount is not distinct from old.refunded_amount then
    return null;
  end if;
  perform pg_notify('order_changes', json_build_object(
    'orderId', new.id, 'status', new.status,
    'kind', case tg_op when 'INSERT' then 'created' else 'updated' end,
    'at', new.updated_at)::text);
  return null;
end $$;`);
    this.addSql(`create trigger "order_changes_notify" after insert or update of "status", "payment_status", "refunded_amount" on "order" for each row execute function "order_changes_notify"();`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop trigger if exists "order_changes_notify" on "order";`);
    this.addSql(`drop function if exists "order_changes_notify"();`);

    this.addSql(`drop table if exists "reconciliation_resolution" cascade;`);
    this.addSql(`drop table if exists "order_refund" cascade;`);

    this.addSql(`drop index "order_status_total_idx";`);
    this.addSql(`drop index "order_currency_total_idx";`);

    this.addSql(`drop index "attempt_extra_capture_idx";`);

    this.addSql(`alter table "payment_event" drop column "flag_kind";`);
  }

}
