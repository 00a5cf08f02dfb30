import type { MikroORM } from '@mikro-orm/postgresql';
import { SUPPORTED_CURRENCIES, maxMinorAmount, type Currency, type Customer } from '@orders/shared';
import { newId } from '../../db/base.entity.js';
import { firstRow, iso, rows, sql, type EntityManager } from '../../db/sql.js';
import { badRequest, conflict, notFound } from '../../errors.js';

export interface CartLineDto {
  sku: string;
  name: string;
  quantity: number;
  unitPrice: number;
  lineTotal: number;
  currency: Currency;
}

export interface CartDto {
  id: string;
  customer: Customer;
  lines: CartLineDto[];
  subtotal: number;
  currency: Currency | null;
  checkedOut: boolean;
  createdAt: string;
  updatedAt: string;
}

/** The largest amount PayPal accepts per currency, as JSON for statements that check totals in SQL. */
export const MAX_AMOUNTS = JSON.stringify(Object.fromEntries(SUPPORTED_CURRENCIES.map((currency) => [currency, maxMinorAmount(currency)])));

interface CartRow {
  id: string;
  customerType: Customer['type'];
  customerId: string;
  checkedOutAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export class CartsService {
  constructor(private readonly orm: MikroORM) {}

  async create(customer: Customer): Promise<CartDto> {
    const em = this.orm.em.fork();
    const cart = await firstRow(
      em,
      sql<CartRow>`
        insert into cart (id, created_at, updated_at, customer_type, customer_id)
        values (${newId()}, now(), now(), ${customer.type}, ${customer.id})
        returning id, customer_type as "customerType", customer_id as "customerId", checked_out_at as "checkedOutAt",
                  created_at as "createdAt", updated_at as "updatedAt"`,
    );
    return toDto(cart!, []);
  }

  async get(customer: Customer, cartId: string): Promise<CartDto> {
    const em = this.orm.em.fork();
    const cart = await firstRow(
      em,
      sql<CartRow>`
        select id, customer_type as "customerType", customer_id as "customerId", checked_out_at as "checkedOutAt",
               created_at as "createdAt", updated_at as "updatedAt"
          from cart where id = ${cartId} and customer_type = ${customer.type} and customer_id = ${customer.id}`,
    );
    if (!cart) throw notFound('cart');
    return toDto(cart, await loadLines(em, cartId));
  }

  /**
   * Sets a line's quantity (0 removes it). Prices always come from the catalog; a cart holds one
   * currency; a checked-out cart is frozen. One statement: the cart locked (ownership checked), every
   * rule checked, and only when all hold the line written and the cart touched; the answer's lines are
   * the cart's others plus the new one, not read back. The statement's snapshot predates its wait for
   * the cart lock: when the cart row changed meanwhile (another setItem, a checkout), the statement
   * changed nothing and runs again, so the currency check and the answer never miss a line.
   */
  async setItem(customer: Customer, cartId: string, sku: string, quantity: number): Promise<CartDto> {
    const em = this.orm.em.fork();
    for (let round = 0; round < 5; round++) {
      const result = await firstRow(
        em,
        sql<SetItemVerdict>`
          with cart_now as materialized (
            select c.id, c.customer_type, c.customer_id, c.checked_out_at, c.created_at, c.xmin::text as version from cart c
             where c.id = ${cartId} and c.customer_type = ${customer.type} and c.customer_id = ${customer.id} for update),
          moved as materialized (
            select coalesce((select version from cart_now) <> (select c.xmin::text from cart c where c.id = ${cartId}), false) as moved),
          chosen as materialized (select p.sku, p.name, p.currency, p.stock, p.unit_price from product p where p.sku = ${sku}),
          others as materialized (
            select l.sku, coalesce(l.quoted_name, p.name) as name, l.quantity, coalesce(l.quoted_unit_price, p.unit_price) as unit_price, p.currency
              from cart_line l join product p on p.sku = l.sku
             where l.cart_id = (select id from cart_now) and l.sku <> ${sku}),
          verdict as materialized (
            select c.id is not null as found, c.checked_out_at is not null as "checkedOut", m.moved,
                   pr.sku is not null as "productFound", pr.currency, pr.stock, pr.unit_price as "unitPrice",
                   (select o.currency from others o where o.currency <> pr.currency limit 1) as "otherCurrency",
                   ${quantity}::bigint * pr.unit_price > (${MAX_AMOUNTS}::jsonb ->> pr.currency)::bigint as "tooLarge"
              from moved m left join cart_now c on true left join chosen pr on true),
          ok as materialized (
            select from verdict v
             where v.found and not v."checkedOut" and not v.moved
               and (${quantity}::int = 0 or (v."productFound" and v."otherCurrency" is null and ${quantity}::int <= v.stock and not v."tooLarge"))),
          removed as (
            delete from cart_line where cart_id = ${cartId} and sku = ${sku} and ${quantity}::int = 0 and exists (select from ok)),
          upserted as (
            insert into cart_line (id, created_at, updated_at, cart_id, sku, quantity)
            select ${newId()}, now(), now(), ${cartId}, ${sku}, ${quantity} from ok where ${quantity}::int > 0
            on conflict (cart_id, sku) do update set quantity = excluded.quantity, updated_at = now()),
          touched as (update cart set updated_at = now() where id = ${cartId} and exists (select from ok) returning updated_at)
          select v.*, c.customer_type as "customerType", c.customer_id as "customerId", c.checked_out_at as "checkedOutAt",
                 c.created_at as "createdAt", (select updated_at from touched) as "updatedAt",
                 (select json_agg(json_build_object('sku', l.sku, 'name', l.name, 'quantity', l.quantity, 'unitPrice', l.unit_price,
                                  'lineTotal', l.unit_price::bigint * l.quantity, 'currency', l.currency) order by l.sku)
                    from (select * from others
                          union all
                          select p.sku, p.name, ${quantity}::int, p.unit_price, p.currency from product p where p.sku = ${sku} and ${quantity}::int > 0) l) as lines
            from verdict v left join cart_now c on true`,
      );
      const verdict = result!;
      if (verdict.moved) continue;
      if (!verdict.found) throw notFound('cart');
      if (verdict.checkedOut) throw conflict('cart is already checked out');
      if (quantity > 0) {
        if (!verdict.productFound) throw notFound(`product ${sku}`);
        if (verdict.otherCurrency) {
          throw conflict(`a cart holds one currency: ${sku} is priced in ${verdict.currency}, the cart in ${verdict.otherCurrency}`);
        }
        if (quantity > verdict.stock!) throw conflict(`only ${verdict.stock} of ${sku} in stock`);
        if (verdict.tooLarge) throw badRequest(`quantity: the line total would exceed what PayPal accepts in ${verdict.currency}`, 'quantity');
      }
      const lines = typeof verdict.lines === 'string' ? (JSON.parse(verdict.lines) as CartLineDto[]) : (verdict.lines ?? []);
      return toDto({ id: cartId, ...verdict, updatedAt: verdict.updatedAt! }, lines);
    }
    throw conflict('the cart kept changing; try again');
  }
}

interface SetItemVerdict extends Omit<CartRow, 'id' | 'updatedAt'> {
  found: boolean;
  checkedOut: boolean;
  moved: boolean;
  productFound: boolean;
  currency: Currency | null;
  stock: number | null;
  unitPrice: number | null;
  otherCurrency: Currency | null;
  tooLarge: boolean | null;
  updatedAt: Date | null;
  lines: CartLineDto[] | string | null;
}

/** loadLines' lines as one JSON array (null when none), for a statement that writes something else too. */
export function linesJson(cartId: string) {
  return sql<CartLineDto[] | string | null>`
    select json_agg(json_build_object('sku', l.sku, 'name', coalesce(l.quoted_name, p.name), 'quantity', l.quantity,
             'unitPrice', coalesce(l.quoted_unit_price, p.unit_price),
             'lineTotal', coalesce(l.quoted_unit_price, p.unit_price)::bigint * l.quantity, 'currency', p.currency) order by l.sku)
      from cart_line l join product p on p.sku = l.sku
     where l.cart_id = ${cartId}`;
}

/** Lines priced from the catalog, or at the quoted price once the cart was checked out. */
export async function loadLines(em: EntityManager, cartId: string): Promise<CartLineDto[]> {
  return rows(
    em,
    sql<CartLineDto>`
      select l.sku, coalesce(l.quoted_name, p.name) as name, l.quantity,
             coalesce(l.quoted_unit_price, p.unit_price) as "unitPrice",
             (coalesce(l.quoted_unit_price, p.unit_price)::bigint * l.quantity)::float8 as "lineTotal", p.currency
        from cart_line l join product p on p.sku = l.sku
       where l.cart_id = ${cartId}
       order by l.sku`,
  );
}

function toDto(cart: CartRow, lines: CartLineDto[]): CartDto {
  return {
    id: cart.id,
    customer: { type: cart.customerType, id: cart.customerId },
    lines,
    subtotal: lines.reduce((sum, l) => sum + l.lineTotal, 0),
    currency: lines[0]?.currency ?? null,
    checkedOut: cart.checkedOutAt !== null,
    createdAt: iso(cart.createdAt),
    updatedAt: iso(cart.updatedAt),
  };
}
