import { schemas } from '@orders/shared';
import { router, serviceProcedure } from '../../trpc/init.js';

export const catalogRouter = router({
  upsertProduct: serviceProcedure('catalog:write')
    .input(schemas.upsertProductInput)
    .mutation(({ ctx, input }) => ctx.services.catalog.upsertProduct(input)),
});
