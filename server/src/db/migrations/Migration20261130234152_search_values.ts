import { Migration } from '@mikro-orm/migrations';

export class Migration20261130234152_search_values extends Migration {

  override name = 'Migration20261130234152_search_values';

  override up(): void | Promise<void> {
    // search-values.ts says what these are. The tables, empty, and the triggers that keep them from now
    // on; the next migration fills them from the documents already there, in batches.
    this.addSql(`create or replace function search_document_values(document text) returns text[]
  language sql immutable parallel safe
  as \$\$ select array(select distinct left(l, 600) from unnest(string_to_array(document, E'\\n')) l where l <> '' order by 1) \$\$;`);
    this.addSql(`create table "order_search_value" ("id" bigint generated always as identity, "value" text collate "C" not null, constraint "order_search_value_unique" unique ("value"));`);
    this.addSql(`create table "order_search_posting" ("value_id" bigint not null, "created_at" timestamptz not null, "order_id" uuid not null, primary key ("value_id", "created_at", "order_id"));`);

    this.addSql(`create or replace function "order_search_order_search_values_insert_fn"() returns trigger as \$\$ begin insert into order_search_value (value) select v from unnest(search_document_values(new.document)) v order by v on conflict (value) do nothing;
    insert into order_search_posting (value_id, created_at, order_id)
      select v.id, new.created_at, new.order_id from order_search_value v where v.value = any(search_document_values(new.document)) on conflict do nothing; return null; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "order_search_values_insert" after insert on "order_search" for each row execute function "order_search_order_search_values_insert_fn"();`);
    this.addSql(`create or replace function "order_search_order_search_values_update_fn"() returns trigger as \$\$ begin delete from order_search_posting p using order_search_value v
      where v.value = any(array(select unnest(search_document_values(old.document)) except select unnest(search_document_values(new.document)) order by 1)) and p.value_id = v.id and p.created_at = new.created_at and p.order_id = new.order_id;
    insert into order_search_value (value) select v from unnest(array(select unnest(search_document_values(new.document)) except select unnest(search_document_values(old.document)) order by 1)) v order by v on conflict (value) do nothing;
    insert into order_search_posting (value_id, created_at, order_id)
      select v.id, new.created_at, new.order_id from order_search_value v where v.value = any(array(select unnest(search_document_values(new.document)) except select unnest(search_document_values(old.document)) order by 1)) on conflict do nothing; return null; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "order_search_values_update" after update on "order_search" for each row when (old.document is distinct from new.document) execute function "order_search_order_search_values_update_fn"();`);

    this.addSql(`create index "order_search_value_trgm_idx" on "order_search_value" using gin ("value" gin_trgm_ops);`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop trigger if exists "order_search_values_insert" on "order_search";`);
    this.addSql(`drop function if exists "order_search_order_search_values_insert_fn"();`);
    this.addSql(`drop trigger if exists "order_search_values_update" on "order_search";`);
    this.addSql(`drop function if exists "order_search_order_search_values_update_fn"();`);
    this.addSql(`drop table if exists "order_search_posting";`);
    this.addSql(`drop table if exists "order_search_value";`);
    this.addSql(`drop function if exists search_document_values(text);`);
  }

}
