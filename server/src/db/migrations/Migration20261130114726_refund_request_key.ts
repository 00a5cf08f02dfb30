import { Migration } from '@mikro-orm/migrations';

export class Migration20261130114726_refund_request_key extends Migration {

  override name = 'Migration20261130114726_refund_request_key';

  override up(): void | Promise<void> {
    // A client's idempotency key for a line refund: the same key never makes a second refund.
    this.addSql(`alter table "order_refund" add "request_key" uuid null;`);
    this.addSql(`alter table "order_refund" add constraint "order_refund_request_key_unique" unique ("request_key");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "order_refund" drop constraint "order_refund_request_key_unique";`);
    this.addSql(`alter table "order_refund" drop column "request_key";`);
  }

}
