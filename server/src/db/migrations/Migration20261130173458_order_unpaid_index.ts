import { Migration } from '@mikro-orm/migrations';

/** A new index on "order" (a big table): built without blocking writes, outside a transaction (README, "Upgrading"). */
export class Migration20261130173458_order_unpaid_index extends Migration {

  override name = 'Migration20261130173458_order_unpaid_index';

  override isTransactional(): boolean {
    return false;
  }

  override up(): void | Promise<void> {
    // A build that failed half-way leaves an INVALID index of this name: drop it, build again.
    this.addSql(`drop index concurrently if exists "order_unpaid_idx";`);
    this.addSql(`create index concurrently "order_unpaid_idx" on "order" ("id") where status in ('pending', 'failed', 'cancelled');`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index concurrently if exists "order_unpaid_idx";`);
  }

}
