import { schemas } from '@orders/shared';
import { router, serviceProcedure } from '../../trpc/init.js';

export const paymentsRouter = router({
  attemptToPay: serviceProcedure('payments:write')
    .input(schemas.attemptToPayInput)
    .mutation(({ ctx, input }) => ctx.services.payments.attemptToPay(input.customer, input, ctx.actor)),
  updateAttempt: serviceProcedure('payments:write')
    .input(schemas.updateAttemptInput)
    .mutation(({ ctx, input }) => ctx.services.payments.updateAttempt(input, ctx.actor)),
  processOrderToPaid: serviceProcedure('payments:write')
    .input(schemas.processOrderToPaidInput)
    .mutation(({ ctx, input }) => ctx.services.orders.processOrderToPaid(input.orderId, ctx.actor)),
});
