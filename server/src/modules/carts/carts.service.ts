import type { MikroORM } from '@mikro-orm/postgresql';
import { maxMinorAmount, type Currency, type Customer } from '@orders/shared';
import { newId } from '../../db/base.entity.js';
import { affected, firstRow, iso, rows, sql, type EntityManager } from '../../db/sql.js';
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

interface CartRow {
  id: string;
  customerType: Customer['type'];
  customerId: string;
  checkedOutAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Locks the cart row for the rest of the transaction; another owner's cart does not exist. */
export async function lockOwnedCart(em: EntityManager, customer: Customer, cartId: string): Promise<CartRow> {
  const cart = await firstRow(
    em,
    sql<CartRow>`
      select id, customer_type as "customerType", customer_id as "customerId", checked_out_at as "checkedOutAt",
             created_at as "createdAt", updated_at as "updatedAt"
        from cart where id = ${cartId} and customer_type = ${customer.type} and customer_id = ${customer.id}
         for update`,
  );
  if (!cart) throw notFound('cart');
  return cart;
}

/**
 * A one-call checkout's cart: created with its lines in one statement each, owned by `customer`, the
 * lines referencing catalog products (an unknown sku is bad input, naming the item). Inside the
 * transaction that then checks it out.
 */
export async function createCartWithItems(em: EntityManager, customer: Customer, items: readonly { sku: string; quantity: number }[]): Promise<string> {
  const cartId = newId();
  await affected(
    em,
    sql`insert into cart (id, created_at, updated_at, customer_type, customer_id) values (${cartId}, now(), now(), ${customer.type}, ${customer.id})`,
  );
  const inserted = await rows(
    em,
    sql<{ sku: string }>`
      insert into cart_line (id, created_at, updated_at, cart_id, sku, quantity)
      select gen_random_uuid(), now(), now(), ${cartId}, i.sku, i.quantity
        from unnest(${items.map((i) => i.sku)}::text[], ${items.map((i) => i.quantity)}::int[]) as i(sku, quantity)
        join product p on p.sku = i.sku
      returning sku`,
  );
  if (inserted.length < items.length) {
    const known = new Set(inserted.map((line) => line.sku));
    const index = items.findIndex((item) => !known.has(item.sku));
    throw badRequest(`items.${index}.sku: no product ${items[index]!.sku}`, `items.${index}.sku`);
  }
  return cartId;
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
   * currency; a checked-out cart is frozen.
   */
  async setItem(customer: Customer, cartId: string, sku: string, quantity: number): Promise<CartDto> {
    return this.orm.em.fork().transactional(async (em) => {
      const cart = await lockOwnedCart(em, customer, cartId);
      if (cart.checkedOutAt) throw conflict('cart is already checked out');
      if (quantity === 0) {
        await affected(em, sql`delete from cart_line where cart_id = ${cartId} and sku = ${sku}`);
      } else {
        const product = await firstRow(
          em,
          sql<{ currency: Currency; stock: number; unitPrice: number; otherCurrency: Currency | null }>`
            select p.currency, p.stock, p.unit_price as "unitPrice",
                   (select p2.currency from cart_line l join product p2 on p2.sku = l.sku
                     where l.cart_id = ${cartId} and l.sku <> ${sku} and p2.currency <> p.currency limit 1) as "otherCurrency"
              from product p where p.sku = ${sku}`,
        );
        if (!product) throw notFound(`product ${sku}`);
        if (product.otherCurrency) {
          throw conflict(`a cart holds one currency: ${sku} is priced in ${product.currency}, the cart in ${product.otherCurrency}`);
        }
        if (quantity > product.stock) throw conflict(`only ${product.stock} of ${sku} in stock`);
        if (quantity * product.unitPrice > maxMinorAmount(product.currency)) {
          throw badRequest(`quantity: the line total would exceed what PayPal accepts in ${product.currency}`, 'quantity');
        }
        await affected(
          em,
          sql`insert into cart_line (id, created_at, updated_at, cart_id, sku, quantity)
              values (${newId()}, now(), now(), ${cartId}, ${sku}, ${quantity})
              on conflict (cart_id, sku) do update set quantity = excluded.quantity, updated_at = now()`,
        );
      }
      const updated = await firstRow(
        em,
        sql<{ updatedAt: Date }>`update cart set updated_at = now() where id = ${cartId} returning updated_at as "updatedAt"`,
      );
      return toDto({ ...cart, updatedAt: updated!.updatedAt }, await loadLines(em, cartId));
    });
  }
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
