import { backoffice, dashboardInput } from '@orders/shared';
import { router, staffProcedure } from '../../trpc/init.js';
import { RESOLVE_ROLE } from '../reconciliation/discrepancy-actions.js';
import { reconciliationRouter } from '../reconciliation/reconciliation.router.js';
import { apiKeysAdminRouter, staffAdminRouter } from '../staff/staff-admin.router.js';
import { ACTION_ROLES } from './order-actions.js';

/**
 * Staff only, by role: viewer reads; operator re-syncs, cancels and resolves; admin refunds and manages
 * staff and keys. Order actions take their role from ACTION_ROLES, the table the detail's allowedActions reads.
 */
export const backofficeRouter = router({
  /** The first screen: revenue, orders, conversion, PayPal outcomes and lag, backlog, open reconciliation items (UTC days). */
  dashboard: staffProcedure('viewer')
    .input(dashboardInput)
    .query(({ ctx, input }) => ctx.services.dashboard.dashboard(input)),
  orders: router({
    search: staffProcedure('viewer')
      .input(backoffice.orderSearchInput)
      .query(({ ctx, input }) => ctx.services.backoffice.search(input)),
    get: staffProcedure('viewer')
      .input(backoffice.orderIdInput)
      .query(({ ctx, input }) => ctx.services.backoffice.get(input.orderId, ctx.principal.role)),
    /** CSV text chunks, streamed: call it through httpBatchStreamLink. */
    exportCsv: staffProcedure('viewer')
      .input(backoffice.orderExportInput)
      .query(({ ctx, input }) => ctx.services.backoffice.exportCsv(input)),
    cancel: staffProcedure(ACTION_ROLES.cancel)
      .input(backoffice.cancelOrderInput)
      .mutation(({ ctx, input }) => ctx.services.orders.cancel(input.orderId, input.reason, ctx.actor)),
    /** An internal note on the order (operator and up: viewers only read); also written to the audit trail. */
    addNote: staffProcedure(ACTION_ROLES.note)
      .input(backoffice.addNoteInput)
      .mutation(({ ctx, input }) => ctx.services.notes.add(input, { type: 'staff', id: ctx.principal.staffId })),
    resolve: staffProcedure(RESOLVE_ROLE)
      .input(backoffice.resolveInput)
      .mutation(({ ctx, input }) => ctx.services.reconciliation.resolve(input.discrepancyId, input.reason, ctx.actor)),
  }),
  payments: router({
    resync: staffProcedure(ACTION_ROLES.resync)
      .input(backoffice.resyncInput)
      .mutation(({ ctx, input }) => ctx.services.payments.resync(input.attemptId, ctx.actor, input.reason)),
    refund: staffProcedure(ACTION_ROLES.refund)
      .input(backoffice.refundInput)
      .mutation(({ ctx, input }) => ctx.services.refunds.refund(input, ctx.actor)),
    /** Refunds chosen paid lines (amount from the paid snapshot), optionally putting their units back in stock. */
    refundLines: staffProcedure(ACTION_ROLES.refundLines)
      .input(backoffice.refundLinesInput)
      .mutation(({ ctx, input }) => ctx.services.refunds.refundLines(input, ctx.actor)),
    /** Refunds exactly one attempt's sale that did not pay the order (a duplicate payment), whole; the order stays as it is. */
    refundDuplicate: staffProcedure(ACTION_ROLES.refundDuplicate)
      .input(backoffice.refundDuplicateInput)
      .mutation(({ ctx, input }) => ctx.services.refunds.refundDuplicate(input, ctx.actor)),
  }),
  /** Cancels several unpaid orders with one reason; per order: cancelled, or skipped with why. */
  bulkCancel: staffProcedure(ACTION_ROLES.cancel)
    .input(backoffice.bulkCancelInput)
    .mutation(({ ctx, input }) => ctx.services.orders.bulkCancel(input.orderIds, input.reason, ctx.actor)),
  reconciliation: reconciliationRouter,
  staff: staffAdminRouter,
  apiKeys: apiKeysAdminRouter,
  events: router({
    /** Server-sent events: every order created or changing status (or refunded amount), from any instance. */
    onChange: staffProcedure('viewer').subscription(({ ctx, signal }) =>
      // Ends when the client leaves or when the session does (logout, expiry, member disabled).
      ctx.services.orderChanges.changes(signal ? AbortSignal.any([signal, ctx.sessionEnded]) : ctx.sessionEnded),
    ),
  }),
});
