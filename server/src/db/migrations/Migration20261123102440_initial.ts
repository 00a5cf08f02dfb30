import { Migration } from '@mikro-orm/migrations';

export class Migration20261123102440_initial extends Migration {

  override name = 'Migration20261123102440_initial';

  override up(): void | Promise<void> {
    this.addSql(`create table "api_key" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "name" varchar(100) not null, "prefix" varchar(16) not null, "key_hash" varchar(64) not null, "scopes" text[] not null, "disabled" boolean not null default false, "last_used_at" timestamptz null, primary key ("id"));`);
    this.addSql(`alter table "api_key" add constraint "api_key_hash_unique" unique ("key_hash");`);

    this.addSql(`create table "cart" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "customer_type" varchar(16) not null, "customer_id" varchar(200) not null, "checked_out_at" timestamptz null, primary key ("id"));`);
    this.addSql(`create index "cart_customer_idx" on "cart" ("customer_type", "customer_id");`);

    this.addSql(`create table "cart_line" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "cart_id" uuid not null, "sku" varchar(64) not null, "quantity" int not null, "quoted_unit_price" int null, "quoted_name" varchar(200) null, primary key ("id"));`);
    this.addSql(`alter table "cart_line" add constraint "cart_line_cart_sku_unique" unique ("cart_id", "sku");`);

    this.addSql(`create table "order" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "customer_type" varchar(16) not null, "customer_id" varchar(200) not null, "cart_id" uuid not null, "status" varchar(32) not null, "payment_status" varchar(32) null, "payment_transaction_id" varchar(64) null, "total" int not null, "currency" varchar(3) not null, "refunded_amount" int not null default 0, "stock_reserved" boolean not null default true, "paid_at" timestamptz null, primary key ("id"));`);
    this.addSql(`alter table "order" add constraint "order_cart_unique" unique ("cart_id");`);
    this.addSql(`alter table "order" add constraint "order_payment_transaction_id_unique" unique ("payment_transaction_id");`);
    this.addSql(`create index "order_created_idx" on "order" ("created_at" DESC, "id" DESC);`);
    this.addSql(`create index "order_status_idx" on "order" ("status", "created_at", "id");`);
    this.addSql(`create index "order_customer_idx" on "order" ("customer_type", "customer_id", "created_at", "id");`);
    this.addSql(`create index "order_total_idx" on "order" ("total", "id");`);
    this.addSql(`create index "order_currency_idx" on "order" ("currency", "created_at", "id");`);

    this.addSql(`create table "audit_entry" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "actor_type" varchar(16) not null, "actor_id" varchar(200) null, "action" varchar(64) not null, "order_id" uuid null, "before" jsonb null, "after" jsonb null, "reason" text null, primary key ("id"));`);
    this.addSql(`create index "audit_entry_order_idx" on "audit_entry" ("order_id", "created_at");`);

    this.addSql(`create table "order_line" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "order_id" uuid not null, "sku" varchar(64) not null, "name" varchar(200) not null, "unit_price" int not null, "quantity" int not null, "line_total" int not null, "currency" varchar(3) not null, primary key ("id"));`);
    this.addSql(`alter table "order_line" add constraint "order_line_order_sku_unique" unique ("order_id", "sku");`);

    this.addSql(`create table "order_payment_attempt" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "order_id" uuid not null, "provider" varchar(16) not null default 'paypal', "external_id" varchar(64) null, "status" varchar(16) not null, "amount" int not null, "currency" varchar(3) not null, "sale_id" varchar(64) null, "sale_state" varchar(32) null, "approval_url" text null, "payer_id" varchar(64) null, "payer_email" varchar(254) null, "return_url" text null, "cancel_url" text null, "failure_reason" text null, "raw_create" jsonb null, "raw_execute" jsonb null, "succeeded_at" timestamptz null, primary key ("id"));`);
    this.addSql(`alter table "order_payment_attempt" add constraint "attempt_external_id_unique" unique ("external_id");`);
    this.addSql(`alter table "order_payment_attempt" add constraint "attempt_sale_id_unique" unique ("sale_id");`);
    this.addSql(`create index "attempt_order_idx" on "order_payment_attempt" ("order_id", "created_at");`);
    this.addSql(`create index "attempt_status_idx" on "order_payment_attempt" ("status", "updated_at");`);
    this.addSql(`create index "attempt_payer_email_idx" on "order_payment_attempt" (lower(payer_email));`);
    this.addSql(`create unique index "attempt_one_success_per_order" on "order_payment_attempt" ("order_id") where status = 'succeeded';`);

    this.addSql(`create table "payment_event" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "source" varchar(32) not null, "attempt_id" uuid null, "order_id" uuid null, "external_id" varchar(64) null, "txn_id" varchar(64) null, "parent_txn_id" varchar(64) null, "provider_status" varchar(64) null, "amount" int null, "currency" varchar(3) null, "raw_body" bytea null, "payload" jsonb null, "verification" varchar(16) not null default 'not_applicable', "processing" varchar(16) not null default 'received', "outcome" text null, "dedup_key" varchar(200) null, "attempts" int not null default 0, "processed_at" timestamptz null, primary key ("id"));`);
    this.addSql(`alter table "payment_event" add constraint "payment_event_dedup_unique" unique ("dedup_key");`);
    this.addSql(`create index "payment_event_txn_idx" on "payment_event" ("txn_id");`);
    this.addSql(`create index "payment_event_external_idx" on "payment_event" ("external_id");`);
    this.addSql(`create index "payment_event_order_idx" on "payment_event" ("order_id", "created_at");`);
    this.addSql(`create index "payment_event_processing_idx" on "payment_event" ("processing", "created_at");`);

    this.addSql(`create table "product" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "sku" varchar(64) not null, "name" varchar(200) not null, "unit_price" int not null, "currency" varchar(3) not null, "stock" int not null, primary key ("id"));`);
    this.addSql(`alter table "product" add constraint "product_sku_unique" unique ("sku");`);

    this.addSql(`create table "staff_user" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "email" varchar(254) not null, "password_hash" varchar(255) not null, "role" varchar(16) not null, "disabled" boolean not null default false, primary key ("id"));`);
    this.addSql(`alter table "staff_user" add constraint "staff_user_email_unique" unique ("email");`);

    this.addSql(`create table "staff_session" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "staff_id" uuid not null, "token_hash" varchar(64) not null, "expires_at" timestamptz not null, "revoked_at" timestamptz null, primary key ("id"));`);
    this.addSql(`alter table "staff_session" add constraint "staff_session_token_unique" unique ("token_hash");`);

    this.addSql(`alter table "cart" add constraint "cart_customer_type_check" check (customer_type in ('user', 'anonymous'));`);

    this.addSql(`alter table "cart_line" add constraint "cart_line_cart_id_foreign" foreign key ("cart_id") references "cart" ("id") on delete cascade;`);
    this.addSql(`alter table "cart_line" add constraint "cart_line_quantity_check" check (quantity > 0);`);

    this.addSql(`alter table "order" add constraint "order_cart_id_foreign" foreign key ("cart_id") references "cart" ("id");`);
    this.addSql(`alter table "order" add constraint "order_total_check" check (total >= 0);`);
    this.addSql(`alter table "order" add constraint "order_refunded_amount_check" check (refunded_amount >= 0 and refunded_amount <= total);`);
    this.addSql(`alter table "order" add constraint "order_status_check" check (status in ('pending', 'paid', 'failed', 'cancelled', 'refunded', 'partially_refunded'));`);
    this.addSql(`alter table "order" add constraint "order_customer_type_check" check (customer_type in ('user', 'anonymous'));`);

    this.addSql(`alter table "audit_entry" add constraint "audit_entry_order_id_foreign" foreign key ("order_id") references "order" ("id") on delete set null;`);

    this.addSql(`alter table "order_line" add constraint "order_line_order_id_foreign" foreign key ("order_id") references "order" ("id") on delete cascade;`);
    this.addSql(`alter table "order_line" add constraint "order_line_amounts_check" check (unit_price >= 0 and quantity > 0 and line_total = unit_price * quantity);`);

    this.addSql(`alter table "order_payment_attempt" add constraint "order_payment_attempt_order_id_foreign" foreign key ("order_id") references "order" ("id");`);
    this.addSql(`alter table "order_payment_attempt" add constraint "attempt_amount_check" check (amount >= 0);`);
    this.addSql(`alter table "order_payment_attempt" add constraint "attempt_status_check" check (status in ('created', 'approved', 'succeeded', 'failed', 'cancelled', 'expired'));`);

    this.addSql(`alter table "payment_event" add constraint "payment_event_attempt_id_foreign" foreign key ("attempt_id") references "order_payment_attempt" ("id") on delete set null;`);
    this.addSql(`alter table "payment_event" add constraint "payment_event_order_id_foreign" foreign key ("order_id") references "order" ("id") on delete set null;`);

    this.addSql(`alter table "product" add constraint "product_unit_price_check" check (unit_price >= 0);`);
    this.addSql(`alter table "product" add constraint "product_stock_check" check (stock >= 0);`);

    this.addSql(`alter table "staff_user" add constraint "staff_user_role_check" check (role in ('viewer', 'operator', 'admin'));`);

    this.addSql(`alter table "staff_session" add constraint "staff_session_staff_id_foreign" foreign key ("staff_id") references "staff_user" ("id") on delete cascade;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "cart_line" drop constraint "cart_line_cart_id_foreign";`);
    this.addSql(`alter table "order" drop constraint "order_cart_id_foreign";`);
    this.addSql(`alter table "audit_entry" drop constraint "audit_entry_order_id_foreign";`);
    this.addSql(`alter table "order_line" drop constraint "order_line_order_id_foreign";`);
    this.addSql(`alter table "order_payment_attempt" drop constraint "order_payment_attempt_order_id_foreign";`);
    this.addSql(`alter table "payment_event" drop constraint "payment_event_order_id_foreign";`);
    this.addSql(`alter table "payment_event" drop constraint "payment_event_attempt_id_foreign";`);
    this.addSql(`alter table "staff_session" drop constraint "staff_session_staff_id_foreign";`);

    this.addSql(`drop table if exists "api_key" cascade;`);
    this.addSql(`drop table if exists "cart" cascade;`);
    this.addSql(`drop table if exists "cart_line" cascade;`);
    this.addSql(`drop table if exists "order" cascade;`);
    this.addSql(`drop table if exists "audit_entry" cascade;`);
    this.addSql(`drop table if exists "order_line" cascade;`);
    this.addSql(`drop table if exists "order_payment_attempt" cascade;`);
    this.addSql(`drop table if exists "payment_event" cascade;`);
    this.addSql(`drop table if exists "product" cascade;`);
    this.addSql(`drop table if exists "staff_user" cascade;`);
    this.addSql(`drop table if exists "staff_session" cascade;`);
  }

}
