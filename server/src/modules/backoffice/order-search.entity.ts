import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { Order } from '../orders/order.entity.js';
import { SEARCH_VALUE_TRIGGERS } from './search-values.js';

/**
 * One search document per order (search-document.ts says what is in it and who keeps it current). Its
 * values are what the trigram index reads (search-values.ts: order_search_value and its postings, kept
 * by the triggers below); the document itself is read in place, one order at a time, when a common
 * fragment is found walking the orders newest first.
 */
export const OrderSearch = defineEntity({
  name: 'OrderSearch',
  tableName: 'order_search',
  properties: {
    order: () => p.oneToOne(Order).owner().primary().deleteRule('cascade'),
    document: p.text(),
    /** The order's created_at (never changes): a fragment is found and ordered inside this table. */
    createdAt: p.datetime(),
    /** The order's status, kept by the status trigger on "order" (search-values.ts): a fragment with a status is walked here. */
    status: p.string().length(32),
  },
  indexes: [
    // The list's keyset order, so a common fragment is found walking newest first without leaving this table.
    { name: 'order_search_created_idx', columns: [{ name: 'created_at', sort: 'desc' }, { name: 'order_id', sort: 'desc' }] },
    // The same order within a status: a common fragment with a status is walked here (order-search.ts, the 'status' walk).
    { name: 'order_search_status_idx', properties: ['status', 'createdAt', 'order'] },
  ],
  triggers: SEARCH_VALUE_TRIGGERS,
});
export type IOrderSearch = InferEntity<typeof OrderSearch>;
