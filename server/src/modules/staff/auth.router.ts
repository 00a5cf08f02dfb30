import { schemas } from '@orders/shared';
import { publicProcedure, router, staffProcedure } from '../../trpc/init.js';

export const authRouter = router({
  login: publicProcedure
    .input(schemas.loginInput)
    .mutation(({ ctx, input }) => ctx.services.staff.login(input.email, input.password)),
  me: staffProcedure('viewer').query(({ ctx }) => ({ id: ctx.principal.staffId, email: ctx.principal.email, role: ctx.principal.role })),
  logout: staffProcedure('viewer').mutation(({ ctx }) => ctx.services.staff.logout(ctx.principal.sessionId)),
});
