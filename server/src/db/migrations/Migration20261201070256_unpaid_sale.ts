import { Migration } from '@mikro-orm/migrations';

export class Migration20261201070256_unpaid_sale extends Migration {

  override name = 'Migration20261201070256_unpaid_sale';

  override up(): void | Promise<void> {
    // Writers wait while the triggers are created and the states already there noted (SHARE: reads go
    // on), so no success committed meanwhile goes unnoted.
    this.addSql(`lock table "order", "order_payment_attempt" in share mode;`);
    this.addSql(`create table "unpaid_sale" ("order_id" uuid not null, "noted_at" timestamptz not null default now(), primary key ("order_id"));`);
    this.addSql(`create or replace function "order_order_unpaid_sale_fn"() returns trigger as \$\$ begin insert into unpaid_sale (order_id, noted_at)
       select new.id, now() where exists (select 1 from order_payment_attempt a where a.order_id = new.id and a.status = 'succeeded')
       on conflict (order_id) do nothing; return null; end; \$\$ language plpgsql;`);
    this.addSql(`create constraint trigger "order_unpaid_sale" after update of status on "order" deferrable initially deferred for each row when (old.status in ('paid', 'partially_refunded', 'refunded') and new.status in ('pending', 'failed', 'cancelled')) execute function "order_order_unpaid_sale_fn"();`);

    this.addSql(`create or replace function "order_payment_attempt_attempt_unpaid_sale_fn"() returns trigger as \$\$ begin insert into unpaid_sale (order_id, noted_at)
       select o.id, now() from "order" o where o.id = new.order_id and o.status in ('pending', 'failed', 'cancelled')
       on conflict (order_id) do nothing; return null; end; \$\$ language plpgsql;`);
    this.addSql(`create constraint trigger "attempt_unpaid_sale" after insert or update of status, order_id on "order_payment_attempt" deferrable initially deferred for each row when (new.status = 'succeeded') execute function "order_payment_attempt_attempt_unpaid_sale_fn"();`);
    this.addSql(`insert into "unpaid_sale" (order_id)
      select o.id from "order" o join order_payment_attempt a on a.order_id = o.id and a.status = 'succeeded'
       where o.status in ('pending', 'failed', 'cancelled');`);
    // Reconciliation's merge of every unpaid order was its only reader.
    this.addSql(`drop index if exists "order_unpaid_idx";`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop trigger if exists "order_unpaid_sale" on "order";`);
    this.addSql(`drop function if exists "order_order_unpaid_sale_fn"();`);

    this.addSql(`drop trigger if exists "attempt_unpaid_sale" on "order_payment_attempt";`);
    this.addSql(`drop function if exists "order_payment_attempt_attempt_unpaid_sale_fn"();`);
    this.addSql(`drop table if exists "unpaid_sale";`);
    this.addSql(`create index "order_unpaid_idx" on "order" ("id") where status in ('pending', 'failed', 'cancelled');`);
  }

}
