import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { Order } from '../orders/order.entity.js';

/**
 * One search document per order (search-document.ts says what is in it and who keeps it current).
 * order_search_document_idx: trigrams of the document (pg_trgm), so `document like '%fragment%'`
 * is an index lookup however the fragment sits in a value.
 */
export const OrderSearch = defineEntity({
  name: 'OrderSearch',
  tableName: 'order_search',
  properties: {
    order: () => p.oneToOne(Order).owner().primary().deleteRule('cascade'),
    document: p.text(),
    /** The order's created_at (never changes): a fragment is found and ordered inside this table. */
    createdAt: p.datetime(),
  },
  indexes: [
    // The list's keyset order, so a common fragment is found walking newest first without leaving this table.
    { name: 'order_search_created_idx', columns: [{ name: 'created_at', sort: 'desc' }, { name: 'order_id', sort: 'desc' }] },
    {
      name: 'order_search_document_idx',
      expression: 'create index "order_search_document_idx" on "order_search" using gin ("document" gin_trgm_ops)',
    },
  ],
});
export type IOrderSearch = InferEntity<typeof OrderSearch>;
