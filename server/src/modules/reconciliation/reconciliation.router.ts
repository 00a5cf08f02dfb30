import { backoffice } from '@orders/shared';
import { router, staffProcedure } from '../../trpc/init.js';

export const reconciliationRouter = router({
  summary: staffProcedure('viewer')
    .input(backoffice.reconciliationSummaryInput)
    .query(({ ctx, input }) => ctx.services.reconciliation.summary(input?.stuckAfterMinutes)),
  list: staffProcedure('viewer')
    .input(backoffice.reconciliationListInput)
    .query(({ ctx, input }) => ctx.services.reconciliation.list(input)),
});
