import { Migration } from '@mikro-orm/migrations';

export class Migration20261130081452_asserted_paid_index extends Migration {

  override name = 'Migration20261130081452_asserted_paid_index';

  override up(): void | Promise<void> {
    this.addSql(`create index "order_asserted_paid_idx" on "order" ("id") where payment_status = 'asserted';`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "order_asserted_paid_idx";`);
  }

}
