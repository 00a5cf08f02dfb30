import { Migration } from '@mikro-orm/migrations';

export class Migration20261130090556_order_number extends Migration {

  override name = 'Migration20261130090556_order_number';

  override up(): void | Promise<void> {
    // Numbers people can read out (#1001, #1002, …); orders that exist already get theirs in the order they came.
    this.addSql(`create sequence "order_number_seq" as int start with 1001;`);
    this.addSql(`alter table "order" add "number" int null;`);
    this.addSql(`update "order" o set "number" = n.number from (select id, nextval('order_number_seq') as number from (select id from "order" order by created_at, id) ordered) n where o.id = n.id;`);
    this.addSql(`alter table "order" alter column "number" set default nextval('order_number_seq'), alter column "number" set not null;`);
    this.addSql(`alter sequence "order_number_seq" owned by "order"."number";`);
    this.addSql(`alter table "order" add constraint "order_number_unique" unique ("number");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "order" drop constraint "order_number_unique";`);
    this.addSql(`alter table "order" drop column "number";`);
  }

}
