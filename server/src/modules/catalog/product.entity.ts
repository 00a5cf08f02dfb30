import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { baseProperties } from '../../db/base.entity.js';

export const Product = defineEntity({
  name: 'Product',
  tableName: 'product',
  properties: {
    ...baseProperties(),
    sku: p.string().length(64).unique(),
    name: p.string().length(200),
    unitPrice: p.integer(),
    currency: p.string().length(3),
    stock: p.integer(),
  },
  checks: [
    { name: 'product_unit_price_check', expression: 'unit_price >= 0' },
    { name: 'product_stock_check', expression: 'stock >= 0' },
  ],
});
export type IProduct = InferEntity<typeof Product>;
