import { backoffice } from '@orders/shared';
import { router, staffProcedure } from '../../trpc/init.js';

export const reconciliationRouter = router({
  summary: staffProcedure('viewer')
    .input(backoffice.reconciliationSummaryInput)
    .query(({ ctx, input }) => ctx.services.reconciliation.summary(input?.stuckAfterMinutes)),
  list: staffProcedure('viewer')
    .input(backoffice.reconciliationListInput)
    // Each item carries the actions the caller's role may take from it: the app only renders them.
    .query(({ ctx, input }) => ctx.services.reconciliation.list(input, ctx.principal.role)),
});
