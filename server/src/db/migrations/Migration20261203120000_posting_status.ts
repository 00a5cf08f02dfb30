import { Migration } from '@mikro-orm/migrations';

/*
 * order_search_posting carries its order's status and currency (search-values.ts), in its primary
 * key's INCLUDE: a fragment with a status or a currency filter is then answered from the postings,
 * index-only, and "order" is read for the page's rows alone. Measured at 1,000,000 orders (median of
 * 40, alternating, a copy of the postings with and without them): "amelia rob" + paid, its 547 orders
 * each looked up in "order" for its status, 6.4 → 2.7 ms; "walnut" + EUR in 90 days, newest first,
 * 7.5 → 5.9. The key grows from 360 to 495 MB.
 *
 * Without one long lock: the columns come in empty (no rewrite), with the triggers that keep them
 * from then on, in one transaction; the postings already there are filled in batches, one
 * transaction each; then NOT NULL (validated as a CHECK while writes go on), the key built again
 * concurrently with INCLUDE and put in place of the old, and a vacuum, so that the postings read
 * index-only again (every page was rewritten).
 */

const INSERT_FN = (posting: string) => `create or replace function "order_search_order_search_values_insert_fn"() returns trigger as \$\$ begin insert into order_search_value (value) select v from unnest(search_document_values(new.document)) v order by v on conflict (value) do nothing;
    ${posting}; return null; end; \$\$ language plpgsql`;
const UPDATE_FN = (posting: string) => `create or replace function "order_search_order_search_values_update_fn"() returns trigger as \$\$ begin delete from order_search_posting p using order_search_value v
      where v.value = any(array(select unnest(search_document_values(old.document)) except select unnest(search_document_values(new.document)) order by 1)) and p.value_id = v.id and p.created_at = new.created_at and p.order_id = new.order_id;
    insert into order_search_value (value) select v from unnest(array(select unnest(search_document_values(new.document)) except select unnest(search_document_values(old.document)) order by 1)) v order by v on conflict (value) do nothing;
    ${posting}; return null; end; \$\$ language plpgsql`;
const NEW_VALUES = `array(select unnest(search_document_values(new.document)) except select unnest(search_document_values(old.document)) order by 1)`;

export class Migration20261203120000_posting_status extends Migration {

  override name = 'Migration20261203120000_posting_status';

  override isTransactional(): boolean {
    return false;
  }

  override up(): void | Promise<void> {
    // One statement, one transaction: no posting is written without its status once the columns exist.
    this.addSql([
      `alter table "order_search_posting" add column "status" varchar(32), add column "currency" varchar(3)`,
      INSERT_FN(`insert into order_search_posting (value_id, created_at, order_id, status, currency)
      select v.id, new.created_at, new.order_id, o.status, o.currency from order_search_value v, "order" o
       where o.id = new.order_id and v.value = any(search_document_values(new.document)) on conflict do nothing`),
      UPDATE_FN(`insert into order_search_posting (value_id, created_at, order_id, status, currency)
      select v.id, new.created_at, new.order_id, o.status, o.currency from order_search_value v, "order" o
       where o.id = new.order_id and v.value = any(${NEW_VALUES}) for share of o on conflict do nothing`),
      `create or replace function "order_order_search_posting_status_fn"() returns trigger as \$\$ begin update order_search_posting p set status = new.status
      from order_search s, order_search_value v
     where s.order_id = new.id and v.value = any(search_document_values(s.document))
       and p.value_id = v.id and p.created_at = s.created_at and p.order_id = new.id; return null; end; \$\$ language plpgsql`,
      `create trigger "order_search_posting_status" after update of status on "order" for each row when (old.status is distinct from new.status) execute function "order_order_search_posting_status_fn"()`,
    ].join(';\n') + ';');
    // The postings already there, 20,000 per transaction in their key's order (each batch's rows wait
    // ~0.1 s), each looked up in "order". A status change meanwhile sets its own postings' status, and
    // a batch passes over what is set.
    this.addSql(`create or replace procedure order_search_posting_status_fill() language plpgsql as \$\$
declare
  lv bigint := -1;
  lc timestamptz := '-infinity';
  lo uuid := '00000000-0000-0000-0000-000000000000';
  nv bigint;
  nc timestamptz;
  no uuid;
begin
  loop
    select b.value_id, b.created_at, b.order_id into nv, nc, no
      from (select p.value_id, p.created_at, p.order_id from order_search_posting p
             where (p.value_id, p.created_at, p.order_id) > (lv, lc, lo) order by 1, 2, 3 limit 20000) b
     order by 1 desc, 2 desc, 3 desc limit 1;
    exit when nv is null;
    update order_search_posting p set (status, currency) = (select o.status, o.currency from "order" o where o.id = p.order_id)
     where (p.value_id, p.created_at, p.order_id) > (lv, lc, lo) and (p.value_id, p.created_at, p.order_id) <= (nv, nc, no)
       and p.status is null;
    lv := nv;
    lc := nc;
    lo := no;
    commit;
  end loop;
end \$\$;`);
    this.addSql(`call order_search_posting_status_fill();`);
    this.addSql(`drop procedure order_search_posting_status_fill();`);
    // NOT NULL without a scan under an exclusive lock: a CHECK validated while writes go on, then used.
    this.addSql(`alter table "order_search_posting" add constraint "order_search_posting_filled" check ("status" is not null and "currency" is not null) not valid;`);
    this.addSql(`alter table "order_search_posting" validate constraint "order_search_posting_filled";`);
    this.addSql(`alter table "order_search_posting" alter column "status" set not null, alter column "currency" set not null;`);
    this.addSql(`alter table "order_search_posting" drop constraint "order_search_posting_filled";`);
    this.addSql(`create unique index concurrently "order_search_posting_key" on "order_search_posting" ("value_id", "created_at", "order_id") include ("status", "currency");`);
    this.addSql(`alter table "order_search_posting" drop constraint "order_search_posting_pkey", add constraint "order_search_posting_pkey" primary key using index "order_search_posting_key";`);
    this.addSql(`vacuum (analyze) "order_search_posting";`);
  }

  override down(): void | Promise<void> {
    this.addSql([
      `drop trigger if exists "order_search_posting_status" on "order"`,
      `drop function if exists "order_order_search_posting_status_fn"()`,
      INSERT_FN(`insert into order_search_posting (value_id, created_at, order_id)
      select v.id, new.created_at, new.order_id from order_search_value v where v.value = any(search_document_values(new.document)) on conflict do nothing`),
      UPDATE_FN(`insert into order_search_posting (value_id, created_at, order_id)
      select v.id, new.created_at, new.order_id from order_search_value v where v.value = any(${NEW_VALUES}) on conflict do nothing`),
    ].join(';\n') + ';');
    this.addSql(`create unique index concurrently "order_search_posting_key" on "order_search_posting" ("value_id", "created_at", "order_id");`);
    this.addSql(`alter table "order_search_posting" drop constraint "order_search_posting_pkey", add constraint "order_search_posting_pkey" primary key using index "order_search_posting_key";`);
    this.addSql(`alter table "order_search_posting" drop column "status", drop column "currency";`);
  }

}
