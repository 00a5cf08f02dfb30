import { Migration } from '@mikro-orm/migrations';

/** A new index on order_search (as big as "order"): built without blocking writes, outside a transaction (README, "Upgrading"). */
export class Migration20261130210001_hex_grams_index extends Migration {

  override name = 'Migration20261130210001_hex_grams_index';

  override isTransactional(): boolean {
    return false;
  }

  override up(): void | Promise<void> {
    // A build that failed half-way leaves an INVALID index of this name: drop it, build again.
    this.addSql(`drop index concurrently if exists "order_search_hex_grams_idx";`);
    this.addSql(`create index concurrently "order_search_hex_grams_idx" on "order_search" using gin (order_search_hex_grams("document"));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index concurrently if exists "order_search_hex_grams_idx";`);
  }

}
