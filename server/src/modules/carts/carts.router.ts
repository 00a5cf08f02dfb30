import { schemas } from '@orders/shared';
import { router, serviceProcedure } from '../../trpc/init.js';

export const cartsRouter = router({
  create: serviceProcedure('carts:write')
    .input(schemas.createCartInput)
    .mutation(({ ctx, input }) => ctx.services.carts.create(input.customer)),
  setItem: serviceProcedure('carts:write')
    .input(schemas.setCartItemInput)
    .mutation(({ ctx, input }) => ctx.services.carts.setItem(input.customer, input.cartId, input.sku, input.quantity)),
  get: serviceProcedure('carts:write')
    .input(schemas.cartRefInput)
    .query(({ ctx, input }) => ctx.services.carts.get(input.customer, input.cartId)),
});
