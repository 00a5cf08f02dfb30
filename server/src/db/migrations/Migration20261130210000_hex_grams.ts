import { Migration } from '@mikro-orm/migrations';

/**
 * The function order_search_hex_grams_idx is built on (search-document.ts says why): every five hex
 * digits in a row of a document's runs of hex digits and dashes, dashes left out, as the 20-bit number
 * they spell. Immutable: an index expression, also evaluated by the search's condition.
 */
export class Migration20261130210000_hex_grams extends Migration {

  override name = 'Migration20261130210000_hex_grams';

  override up(): void | Promise<void> {
    this.addSql(`create or replace function "order_search_hex_grams"(document text) returns int[]
      language sql immutable strict parallel safe as \$\$
        select coalesce(array_agg(distinct ('x' || substr(run, i, 5))::bit(20)::int), '{}')
          from (select replace(m[1], '-', '') as run from regexp_matches(document, '([0-9a-f-]{5,})', 'g') m) runs,
               generate_series(1, length(run) - 4) i
      \$\$;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop function if exists "order_search_hex_grams"(text);`);
  }

}
