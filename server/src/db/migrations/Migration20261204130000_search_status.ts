import { Migration } from '@mikro-orm/migrations';
import { ORDER_SEARCH_TRIGGERS, SEARCH_DOCUMENT, SEARCH_STATUS_FILL } from '../../modules/backoffice/search-document.js';
import { POSTING_STATUS_TRIGGER } from '../../modules/backoffice/search-values.js';

/*
 * order_search carries its order's status (search-document.ts), with order_search_status_idx: a
 * common fragment with a status is walked through the documents of that status, each checked in place.
 *
 * Without one long lock: the column comes in empty (no rewrite), with the triggers that keep it from
 * then on (the insert on "order" writes it, the status trigger rewrites it), in one transaction; the
 * rows already there are filled 20,000 orders per transaction, each batch's orders locked (SEARCH_STATUS_FILL);
 * then NOT NULL (validated as a CHECK while writes go on), the index built concurrently, and a vacuum,
 * so that order_search_created_idx's walks find their pages all-visible again. Measured at 1,000,000
 * seeded orders: the fill 14.5 s (each batch's orders and documents locked ~0.3 s), NOT NULL 0.7–2.7 s, the vacuum 3.0–4.2 s.
 */
const [INSERT_TRIGGER] = ORDER_SEARCH_TRIGGERS;

export class Migration20261204130000_search_status extends Migration {

  override name = 'Migration20261204130000_search_status';

  override isTransactional(): boolean {
    return false;
  }

  override up(): void | Promise<void> {
    this.addSql(
      [
        // (Written to run again after a failure part way: this migration is not one transaction.)
        `alter table "order_search" add column if not exists "status" varchar(32) null`,
        ...[INSERT_TRIGGER!, POSTING_STATUS_TRIGGER].flatMap((t) => [`drop trigger if exists "${t.name}" on "order"`, t.expression.replace(/;$/, '')]),
      ].join(';\n') + ';',
    );
    this.addSql(SEARCH_STATUS_FILL(20_000) + ';');
    this.addSql(`call order_search_status_fill();`);
    this.addSql(`drop procedure order_search_status_fill();`);
    // (A run that failed part way may have left the CHECK, or an INVALID index from its concurrent build.)
    this.addSql(`alter table "order_search" drop constraint if exists "order_search_status_filled";`);
    this.addSql(`alter table "order_search" add constraint "order_search_status_filled" check ("status" is not null) not valid;`);
    this.addSql(`alter table "order_search" validate constraint "order_search_status_filled";`);
    this.addSql(`alter table "order_search" alter column "status" set not null;`);
    this.addSql(`alter table "order_search" drop constraint "order_search_status_filled";`);
    this.addSql(`drop index concurrently if exists "order_search_status_idx";`);
    this.addSql(`create index concurrently "order_search_status_idx" on "order_search" ("status", "created_at", "order_id");`);
    this.addSql(`vacuum (analyze) "order_search";`);
  }

  override down(): void | Promise<void> {
    this.addSql(
      [
        `drop trigger if exists "${INSERT_TRIGGER!.name}" on "order"`,
        `create or replace function "order_order_search_insert_fn"() returns trigger as $$ begin insert into order_search (order_id, document, created_at) select o.id, ${SEARCH_DOCUMENT}, o.created_at from "order" o where o.id = new.id; return null; end; $$ language plpgsql`,
        `create trigger "${INSERT_TRIGGER!.name}" after insert on "order" for each row execute function "order_order_search_insert_fn"()`,
        `create or replace function "order_order_search_posting_status_fn"() returns trigger as $$ begin update order_search_posting p set status = new.status
      from order_search s, order_search_value v
     where s.order_id = new.id and v.value = any(search_document_values(s.document))
       and p.value_id = v.id and p.created_at = s.created_at and p.order_id = new.id; return null; end; $$ language plpgsql`,
        `drop index if exists "order_search_status_idx"`,
        `alter table "order_search" drop column "status"`,
      ].join(';\n') + ';',
    );
  }

}
