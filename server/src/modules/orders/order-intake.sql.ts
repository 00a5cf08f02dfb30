import type { Currency, Customer } from '@orders/shared';
import { sql } from '../../db/sql.js';
import type { CartLineDto } from '../carts/carts.service.js';

/*
 * The pieces of createPendingOrder's one statement (order.transitions.ts) that read and write carts:
 * each returns CTEs for the statement's `with` list. None of them writes "order".status.
 */

/** What the statement found, beside the order it created (if every rule held). */
export interface CreateVerdict {
  found: boolean;
  checkedOut: boolean;
  /** The cart row changed between the statement's snapshot and its lock: the lines it read may be stale. */
  moved: boolean;
  unknownItem: number | null;
  lineCount: number;
  currencies: number;
  quotedCurrency: Currency | null;
  quotedTotal: string;
  short: string[] | null;
  lines: CartLineDto[] | string | null;
}

/** The customer's cart, locked, and its lines with their products locked in sku order (cart_state, lines). */
export function cartLinesOf(customer: Customer, cartId: string) {
  return sql`
    cart_now as materialized (
      select c.id, c.checked_out_at, c.xmin::text as version from cart c
       where c.id = ${cartId} and c.customer_type = ${customer.type} and c.customer_id = ${customer.id} for update),
    cart_state as materialized (
      select exists (select from cart_now) as found,
             coalesce((select checked_out_at is not null from cart_now), false) as checked_out,
             coalesce((select version from cart_now) <> (select c.xmin::text from cart c where c.id = ${cartId}), false) as moved,
             null::int as unknown_item),
    lines as materialized (
      select l.id as line_id, p.sku, l.quantity, p.unit_price, p.name, p.currency, p.stock
        from cart_line l join product p on p.sku = l.sku
       where l.cart_id = (select id from cart_now)
       order by p.sku for update of p)`;
}

/** One-call checkout's items with their products locked in sku order; the first unknown sku's index (cart_state, lines). */
export function itemLines(items: readonly { sku: string; quantity: number }[]) {
  return sql`
    wanted as (
      select i.sku, i.quantity, i.position::int - 1 as position
        from unnest(${items.map((i) => i.sku)}::text[], ${items.map((i) => i.quantity)}::int[]) with ordinality as i(sku, quantity, position)),
    cart_state as materialized (
      select true as found, false as checked_out, false as moved,
             (select min(w.position) from wanted w where not exists (select from product p where p.sku = w.sku)) as unknown_item),
    lines as materialized (
      select p.sku, w.quantity, p.unit_price, p.name, p.currency, p.stock
        from wanted w join product p on p.sku = w.sku
       order by p.sku for update of p)`;
}

/** The cart's lines keep the prices quoted now; the cart can no longer change (quoted, checked_out). */
export function checkOutCart(cartId: string) {
  return sql`
    quoted as (
      update cart_line l set quoted_unit_price = w.unit_price, quoted_name = w.name, updated_at = now()
        from lines w where l.id = w.line_id and exists (select from ok)),
    checked_out as (
      update cart set checked_out_at = now(), updated_at = now() where id = ${cartId} and exists (select from ok))`;
}

/** The items become the customer's cart, already checked out at the quoted prices (cart_made, lines_made). */
export function cartFromItems(customer: Customer, cartId: string) {
  return sql`
    cart_made as (
      insert into cart (id, created_at, updated_at, customer_type, customer_id, checked_out_at)
      select ${cartId}, now(), now(), ${customer.type}, ${customer.id}, now() from ok),
    lines_made as (
      insert into cart_line (id, created_at, updated_at, cart_id, sku, quantity, quoted_unit_price, quoted_name)
      select gen_random_uuid(), now(), now(), ${cartId}, w.sku, w.quantity, w.unit_price, w.name
        from lines w where exists (select from ok))`;
}
