import { schemas } from '@orders/shared';
import { router, serviceProcedure } from '../../trpc/init.js';

export const ordersRouter = router({
  create: serviceProcedure('orders:write')
    .input(schemas.createOrderInput)
    .mutation(({ ctx, input }) =>
      ctx.services.orders.create(input.customer, input.items ? { items: input.items } : { cartId: input.cartId! }, ctx.actor, {
        customerEmail: input.customerEmail,
        customerName: input.customerName,
      }),
    ),
  get: serviceProcedure('orders:read')
    .input(schemas.orderRefInput)
    .query(({ ctx, input }) => ctx.services.orders.get(input.customer, input.orderId)),
  list: serviceProcedure('orders:read')
    .input(schemas.listOrdersInput)
    .query(({ ctx, input }) => ctx.services.orders.list(input.customer, input.page, input.pageSize, input.cursor)),
  getToPay: serviceProcedure('orders:read')
    .input(schemas.getToPayInput)
    .query(({ ctx, input }) => ctx.services.orders.getToPay(input.orderId)),
});
