import { Migration } from '@mikro-orm/migrations';

export class Migration20261130111116_line_refunds_notes extends Migration {

  override name = 'Migration20261130111116_line_refunds_notes';

  override up(): void | Promise<void> {
    this.addSql(`create table "order_refund_line" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "refund_id" uuid not null, "order_id" uuid not null, "order_line_id" uuid not null, "sku" varchar(64) not null, "quantity" int not null, "amount" int not null, "currency" varchar(3) not null, "restock" boolean not null default false, "restocked_at" timestamptz null, primary key ("id"));`);
    this.addSql(`create index "order_refund_line_order_line_idx" on "order_refund_line" ("order_line_id");`);
    this.addSql(`alter table "order_refund_line" add constraint "order_refund_line_refund_line_unique" unique ("refund_id", "order_line_id");`);

    this.addSql(`create table "order_note" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "order_id" uuid not null, "staff_id" uuid not null, "body" text not null, primary key ("id"));`);
    this.addSql(`create index "order_note_order_idx" on "order_note" ("order_id", "created_at");`);

    this.addSql(`alter table "order_refund_line" add constraint "order_refund_line_refund_id_foreign" foreign key ("refund_id") references "order_refund" ("id") on delete cascade;`);
    this.addSql(`alter table "order_refund_line" add constraint "order_refund_line_order_id_foreign" foreign key ("order_id") references "order" ("id");`);
    this.addSql(`alter table "order_refund_line" add constraint "order_refund_line_order_line_id_foreign" foreign key ("order_line_id") references "order_line" ("id");`);
    this.addSql(`alter table "order_refund_line" add constraint "order_refund_line_quantity_check" check (quantity > 0);`);
    this.addSql(`alter table "order_refund_line" add constraint "order_refund_line_amount_check" check (amount >= 0);`);

    this.addSql(`alter table "order_note" add constraint "order_note_order_id_foreign" foreign key ("order_id") references "order" ("id");`);
    this.addSql(`alter table "order_note" add constraint "order_note_staff_id_foreign" foreign key ("staff_id") references "staff_user" ("id");`);
    this.addSql(`alter table "order_note" add constraint "order_note_body_check" check (length(body) between 1 and 4000);`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "order_refund_line" cascade;`);
    this.addSql(`drop table if exists "order_note" cascade;`);
  }

}
