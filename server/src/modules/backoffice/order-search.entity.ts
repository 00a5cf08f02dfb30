import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { Order } from '../orders/order.entity.js';

/**
 * One search document per order (search-document.ts says what is in it and who keeps it current).
 * order_search_document_idx: trigrams of the document (pg_trgm), so `document like '%fragment%'`
 * is an index lookup however the fragment sits in a value. order_search_hex_grams_idx: the
 * document's five-hex-digit runs, for fragments of ids (order-text-match.ts, hexGrams).
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
    // order_search_hex_grams_idx (five hex digits in a row, as numbers: order-text-match.ts) is defined
    // by its migration only: the schema reader does not see an index on a function's result, so
    // declared here it would be proposed again by every migration:create.
  ],
});
export type IOrderSearch = InferEntity<typeof OrderSearch>;
