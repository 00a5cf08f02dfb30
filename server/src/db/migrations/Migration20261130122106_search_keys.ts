import { Migration } from '@mikro-orm/migrations';

export class Migration20261130122106_search_keys extends Migration {

  override name = 'Migration20261130122106_search_keys';

  override up(): void | Promise<void> {
    // The order's created_at beside its document (it never changes), filled for existing orders first.
    this.addSql(`alter table "order_search" add "created_at" timestamptz null;`);
    this.addSql(`update order_search s set created_at = o.created_at from "order" o where o.id = s.order_id;`);
    this.addSql(`alter table "order_search" alter column "created_at" set not null;`);
    this.addSql(`create index "order_search_created_idx" on "order_search" ("created_at" DESC, "order_id" DESC);`);
    this.addSql(`drop trigger if exists "order_search_insert" on "order";`);
    this.addSql(`drop function if exists "order_order_search_insert_fn"();`);
    this.addSql(`create or replace function "order_order_search_insert_fn"() returns trigger as \$\$ begin insert into order_search (order_id, document, created_at) select o.id, lower(concat_ws(E'\\n', o.id::text, o.customer_id, o.customer_email, o.customer_name,
    o.payer_email, o.payer_name, o.payment_transaction_id,
    (select string_agg(concat_ws(E'\\n', a.external_id, a.sale_id, a.payer_email, a.payer_name), E'\\n' order by a.created_at, a.id)
       from order_payment_attempt a where a.order_id = o.id),
    (select string_agg(concat_ws(E'\\n', l.sku, l.quoted_name), E'\\n' order by l.sku)
       from cart_line l where l.cart_id = o.cart_id))), o.created_at from "order" o where o.id = new.id; return null; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "order_search_insert" after insert on "order" for each row execute function "order_order_search_insert_fn"();`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop trigger if exists "order_search_insert" on "order";`);
    this.addSql(`drop function if exists "order_order_search_insert_fn"();`);
    this.addSql(`create or replace function "order_order_search_insert_fn"() returns trigger as \$\$ begin insert into order_search (order_id, document) select o.id, lower(concat_ws(E'\\n', o.id::text, o.customer_id, o.customer_email, o.customer_name,
    o.payer_email, o.payer_name, o.payment_transaction_id,
    (select string_agg(concat_ws(E'\\n', a.external_id, a.sale_id, a.payer_email, a.payer_name), E'\\n' order by a.created_at, a.id)
       from order_payment_attempt a where a.order_id = o.id),
    (select string_agg(concat_ws(E'\\n', l.sku, l.quoted_name), E'\\n' order by l.sku)
       from cart_line l where l.cart_id = o.cart_id))) from "order" o where o.id = new.id; return null; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "order_search_insert" after insert on "order" for each row execute function "order_order_search_insert_fn"();`);

    this.addSql(`drop index "order_search_created_idx";`);
    this.addSql(`alter table "order_search" drop column "created_at";`);
  }

}
