import { Migration } from '@mikro-orm/migrations';

export class Migration20261130110943_dashboard_indexes extends Migration {

  override name = 'Migration20261130110943_dashboard_indexes';

  override up(): void | Promise<void> {
    this.addSql(`create index "attempt_created_idx" on "order_payment_attempt" ("created_at") include ("status", "currency", "order_id");`);

    this.addSql(`create index "payment_event_notification_idx" on "payment_event" ("created_at") include ("source", "processed_at") where source in ('ipn', 'webhook');`);

    this.addSql(`create index "money_movement_created_idx" on "money_movement" ("created_at") include ("kind", "amount", "currency") where state = 'applied';`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "money_movement_created_idx";`);

    this.addSql(`drop index "attempt_created_idx";`);

    this.addSql(`drop index "payment_event_notification_idx";`);
  }

}
