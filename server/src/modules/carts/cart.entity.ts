import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { baseProperties, oneOf } from '../../db/base.entity.js';

export const Cart = defineEntity({
  name: 'Cart',
  tableName: 'cart',
  properties: {
    ...baseProperties(),
    customerType: p.string().length(16),
    customerId: p.string().length(200),
    /** Set when an order is created from the cart; a checked-out cart can no longer change. */
    checkedOutAt: p.datetime().nullable(),
  },
  indexes: [{ name: 'cart_customer_idx', properties: ['customerType', 'customerId'] }],
  checks: [oneOf('cart_customer_type_check', 'customer_type', ['user', 'anonymous'])],
});
export type ICart = InferEntity<typeof Cart>;

export const CartLine = defineEntity({
  name: 'CartLine',
  tableName: 'cart_line',
  properties: {
    ...baseProperties(),
    cart: () => p.manyToOne(Cart).deleteRule('cascade'),
    sku: p.string().length(64),
    quantity: p.integer(),
    /** Catalog price and name captured when the order was created: what the customer was quoted. */
    quotedUnitPrice: p.integer().nullable(),
    quotedName: p.string().length(200).nullable(),
  },
  uniques: [{ name: 'cart_line_cart_sku_unique', properties: ['cart', 'sku'] }],
  checks: [{ name: 'cart_line_quantity_check', expression: 'quantity > 0' }],
});
export type ICartLine = InferEntity<typeof CartLine>;
