import { Migration } from '@mikro-orm/migrations';

export class Migration20261130111003_payer_customer_display extends Migration {

  override name = 'Migration20261130111003_payer_customer_display';

  override up(): void | Promise<void> {
    this.addSql(`alter table "order" add "customer_email" varchar(254) null, add "customer_name" varchar(200) null, add "payer_email" varchar(254) null, add "payer_name" varchar(200) null;`);
    this.addSql(`alter table "order_payment_attempt" add "payer_name" varchar(200) null;`);
    // Orders paid before this migration: their paying attempt's payer, as recorded on the attempt.
    this.addSql(`update "order" o set "payer_email" = a."payer_email" from "order_payment_attempt" a where a."order_id" = o."id" and a."status" = 'succeeded' and a."payer_email" is not null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "order" drop column "customer_email", drop column "customer_name", drop column "payer_email", drop column "payer_name";`);
    this.addSql(`alter table "order_payment_attempt" drop column "payer_name";`);
  }

}
