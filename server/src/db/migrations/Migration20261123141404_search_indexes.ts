import { Migration } from '@mikro-orm/migrations';

export class Migration20261123141404_search_indexes extends Migration {

  override name = 'Migration20261123141404_search_indexes';

  override up(): void | Promise<void> {
    this.addSql(`create index "order_currency_status_idx" on "order" ("currency", "status", "created_at", "id");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "order_currency_status_idx";`);
  }

}
