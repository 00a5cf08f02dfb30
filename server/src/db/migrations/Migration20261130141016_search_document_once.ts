import { Migration } from '@mikro-orm/migrations';

export class Migration20261130141016_search_document_once extends Migration {

  override name = 'Migration20261130141016_search_document_once';

  override up(): void | Promise<void> {
    // The document leaves out the order's payer copy and payment_transaction_id (they repeat the
    // paying attempt's, which it keeps), so a payment's success rewrites it once. Existing documents
    // are not rewritten: theirs hold the same values twice, and are found by the same fragments.
    this.addSql(`drop trigger if exists "order_search_insert" on "order";`);
    this.addSql(`drop function if exists "order_order_search_insert_fn"();`);
    this.addSql(`drop trigger if exists "order_search_update" on "order";`);
    this.addSql(`drop function if exists "order_order_search_update_fn"();`);
    this.addSql(`create or replace function "order_order_search_insert_fn"() returns trigger as \$\$ begin insert into order_search (order_id, document, created_at) select o.id, lower(concat_ws(E'\\n', o.id::text, o.customer_id, o.customer_email, o.customer_name,
    (select string_agg(concat_ws(E'\\n', a.external_id, a.sale_id, a.payer_email, a.payer_name), E'\\n' order by a.created_at, a.id)
       from order_payment_attempt a where a.order_id = o.id),
    (select string_agg(concat_ws(E'\\n', l.sku, l.quoted_name), E'\\n' order by l.sku)
       from cart_line l where l.cart_id = o.cart_id))), o.created_at from "order" o where o.id = new.id; return null; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "order_search_insert" after insert on "order" for each row execute function "order_order_search_insert_fn"();`);
    this.addSql(`create or replace function "order_order_search_update_fn"() returns trigger as \$\$ begin update order_search s set document = d.document
      from (select lower(concat_ws(E'\\n', o.id::text, o.customer_id, o.customer_email, o.customer_name,
    (select string_agg(concat_ws(E'\\n', a.external_id, a.sale_id, a.payer_email, a.payer_name), E'\\n' order by a.created_at, a.id)
       from order_payment_attempt a where a.order_id = o.id),
    (select string_agg(concat_ws(E'\\n', l.sku, l.quoted_name), E'\\n' order by l.sku)
       from cart_line l where l.cart_id = o.cart_id))) as document from "order" o where o.id = new.id) d
     where s.order_id = new.id and s.document is distinct from d.document; return null; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "order_search_update" after update on "order" for each row when (old.customer_id is distinct from new.customer_id or old.customer_email is distinct from new.customer_email or old.customer_name is distinct from new.customer_name) execute function "order_order_search_update_fn"();`);

    this.addSql(`drop trigger if exists "attempt_search_insert" on "order_payment_attempt";`);
    this.addSql(`drop function if exists "order_payment_attempt_attempt_search_insert_fn"();`);
    this.addSql(`drop trigger if exists "attempt_search_update" on "order_payment_attempt";`);
    this.addSql(`drop function if exists "order_payment_attempt_attempt_search_update_fn"();`);
    this.addSql(`create or replace function "order_payment_attempt_attempt_search_insert_fn"() returns trigger as \$\$ begin update order_search s set document = d.document
      from (select lower(concat_ws(E'\\n', o.id::text, o.customer_id, o.customer_email, o.customer_name,
    (select string_agg(concat_ws(E'\\n', a.external_id, a.sale_id, a.payer_email, a.payer_name), E'\\n' order by a.created_at, a.id)
       from order_payment_attempt a where a.order_id = o.id),
    (select string_agg(concat_ws(E'\\n', l.sku, l.quoted_name), E'\\n' order by l.sku)
       from cart_line l where l.cart_id = o.cart_id))) as document from "order" o where o.id = new.order_id) d
     where s.order_id = new.order_id and s.document is distinct from d.document; return null; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "attempt_search_insert" after insert on "order_payment_attempt" for each row when (new.external_id is not null or new.sale_id is not null or new.payer_email is not null or new.payer_name is not null) execute function "order_payment_attempt_attempt_search_insert_fn"();`);
    this.addSql(`create or replace function "order_payment_attempt_attempt_search_update_fn"() returns trigger as \$\$ begin update order_search s set document = d.document
      from (select lower(concat_ws(E'\\n', o.id::text, o.customer_id, o.customer_email, o.customer_name,
    (select string_agg(concat_ws(E'\\n', a.external_id, a.sale_id, a.payer_email, a.payer_name), E'\\n' order by a.created_at, a.id)
       from order_payment_attempt a where a.order_id = o.id),
    (select string_agg(concat_ws(E'\\n', l.sku, l.quoted_name), E'\\n' order by l.sku)
       from cart_line l where l.cart_id = o.cart_id))) as document from "order" o where o.id = new.order_id) d
     where s.order_id = new.order_id and s.document is distinct from d.document; return null; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "attempt_search_update" after update on "order_payment_attempt" for each row when (old.external_id is distinct from new.external_id or old.sale_id is distinct from new.sale_id or old.payer_email is distinct from new.payer_email or old.payer_name is distinct from new.payer_name) execute function "order_payment_attempt_attempt_search_update_fn"();`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop trigger if exists "order_search_insert" on "order";`);
    this.addSql(`drop function if exists "order_order_search_insert_fn"();`);
    this.addSql(`drop trigger if exists "order_search_update" on "order";`);
    this.addSql(`drop function if exists "order_order_search_update_fn"();`);
    this.addSql(`create or replace function "order_order_search_insert_fn"() returns trigger as \$\$ begin insert into order_search (order_id, document, created_at) select o.id, lower(concat_ws(E'\\n', o.id::text, o.customer_id, o.customer_email, o.customer_name,
    o.payer_email, o.payer_name, o.payment_transaction_id,
    (select string_agg(concat_ws(E'\\n', a.external_id, a.sale_id, a.payer_email, a.payer_name), E'\\n' order by a.created_at, a.id)
       from order_payment_attempt a where a.order_id = o.id),
    (select string_agg(concat_ws(E'\\n', l.sku, l.quoted_name), E'\\n' order by l.sku)
       from cart_line l where l.cart_id = o.cart_id))), o.created_at from "order" o where o.id = new.id; return null; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "order_search_insert" after insert on "order" for each row execute function "order_order_search_insert_fn"();`);
    this.addSql(`create or replace function "order_order_search_update_fn"() returns trigger as \$\$ begin update order_search s set document = d.document
      from (select lower(concat_ws(E'\\n', o.id::text, o.customer_id, o.customer_email, o.customer_name,
    o.payer_email, o.payer_name, o.payment_transaction_id,
    (select string_agg(concat_ws(E'\\n', a.external_id, a.sale_id, a.payer_email, a.payer_name), E'\\n' order by a.created_at, a.id)
       from order_payment_attempt a where a.order_id = o.id),
    (select string_agg(concat_ws(E'\\n', l.sku, l.quoted_name), E'\\n' order by l.sku)
       from cart_line l where l.cart_id = o.cart_id))) as document from "order" o where o.id = new.id) d
     where s.order_id = new.id and s.document is distinct from d.document; return null; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "order_search_update" after update on "order" for each row when (old.customer_id is distinct from new.customer_id or old.customer_email is distinct from new.customer_email or old.customer_name is distinct from new.customer_name or old.payer_email is distinct from new.payer_email or old.payer_name is distinct from new.payer_name or old.payment_transaction_id is distinct from new.payment_transaction_id) execute function "order_order_search_update_fn"();`);

    this.addSql(`drop trigger if exists "attempt_search_insert" on "order_payment_attempt";`);
    this.addSql(`drop function if exists "order_payment_attempt_attempt_search_insert_fn"();`);
    this.addSql(`drop trigger if exists "attempt_search_update" on "order_payment_attempt";`);
    this.addSql(`drop function if exists "order_payment_attempt_attempt_search_update_fn"();`);
    this.addSql(`create or replace function "order_payment_attempt_attempt_search_insert_fn"() returns trigger as \$\$ begin update order_search s set document = d.document
      from (select lower(concat_ws(E'\\n', o.id::text, o.customer_id, o.customer_email, o.customer_name,
    o.payer_email, o.payer_name, o.payment_transaction_id,
    (select string_agg(concat_ws(E'\\n', a.external_id, a.sale_id, a.payer_email, a.payer_name), E'\\n' order by a.created_at, a.id)
       from order_payment_attempt a where a.order_id = o.id),
    (select string_agg(concat_ws(E'\\n', l.sku, l.quoted_name), E'\\n' order by l.sku)
       from cart_line l where l.cart_id = o.cart_id))) as document from "order" o where o.id = new.order_id) d
     where s.order_id = new.order_id and s.document is distinct from d.document; return null; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "attempt_search_insert" after insert on "order_payment_attempt" for each row when (new.external_id is not null or new.sale_id is not null or new.payer_email is not null or new.payer_name is not null) execute function "order_payment_attempt_attempt_search_insert_fn"();`);
    this.addSql(`create or replace function "order_payment_attempt_attempt_search_update_fn"() returns trigger as \$\$ begin update order_search s set document = d.document
      from (select lower(concat_ws(E'\\n', o.id::text, o.customer_id, o.customer_email, o.customer_name,
    o.payer_email, o.payer_name, o.payment_transaction_id,
    (select string_agg(concat_ws(E'\\n', a.external_id, a.sale_id, a.payer_email, a.payer_name), E'\\n' order by a.created_at, a.id)
       from order_payment_attempt a where a.order_id = o.id),
    (select string_agg(concat_ws(E'\\n', l.sku, l.quoted_name), E'\\n' order by l.sku)
       from cart_line l where l.cart_id = o.cart_id))) as document from "order" o where o.id = new.order_id) d
     where s.order_id = new.order_id and s.document is distinct from d.document; return null; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "attempt_search_update" after update on "order_payment_attempt" for each row when (old.external_id is distinct from new.external_id or old.sale_id is distinct from new.sale_id or old.payer_email is distinct from new.payer_email or old.payer_name is distinct from new.payer_name) execute function "order_payment_attempt_attempt_search_update_fn"();`);
  }

}
