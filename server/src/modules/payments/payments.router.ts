import { schemas } from '@orders/shared';
import { router, serviceProcedure, settleProcedure } from '../../trpc/init.js';

export const paymentsRouter = router({
  attemptToPay: serviceProcedure('payments:write')
    .input(schemas.attemptToPayInput)
    .mutation(({ ctx, input }) => ctx.services.payments.attemptToPay(input.customer, input, ctx.actor)),
  // These two assert that money was taken: payments:settle, audited with the key's name (trpc/init.ts).
  updateAttempt: settleProcedure()
    .input(schemas.updateAttemptInput)
    .mutation(({ ctx, input }) => ctx.services.payments.updateAttempt(input, ctx.actor)),
  processOrderToPaid: settleProcedure()
    .input(schemas.processOrderToPaidInput)
    .mutation(({ ctx, input }) => ctx.services.orders.processOrderToPaid(input.orderId, ctx.actor)),
});
