import { backoffice } from '@orders/shared';
import { router, staffProcedure } from '../../trpc/init.js';

export const staffAdminRouter = router({
  list: staffProcedure('admin').query(({ ctx }) => ctx.services.staff.listStaff()),
  /** Account locks after failed logins, bootstrap changes, staff and key management: audit entries tied to no order. */
  securityEvents: staffProcedure('admin').query(({ ctx }) => ctx.services.staff.securityEvents()),
  create: staffProcedure('admin')
    .input(backoffice.staffCreateInput)
    .mutation(({ ctx, input }) => ctx.services.staff.createStaff(input, ctx.actor)),
  setDisabled: staffProcedure('admin')
    .input(backoffice.staffDisableInput)
    .mutation(({ ctx, input }) => ctx.services.staff.setStaffDisabled(input.staffId, input.disabled, ctx.actor)),
  setRole: staffProcedure('admin')
    .input(backoffice.staffRoleInput)
    .mutation(({ ctx, input }) => ctx.services.staff.setStaffRole(input.staffId, input.role, ctx.actor)),
});

export const apiKeysAdminRouter = router({
  list: staffProcedure('admin').query(({ ctx }) => ctx.services.staff.listApiKeys()),
  /** The plain key is in this answer only; it is stored as a hash. */
  create: staffProcedure('admin')
    .input(backoffice.apiKeyCreateInput)
    .mutation(({ ctx, input }) => ctx.services.staff.createApiKey(input.name, input.scopes, ctx.actor)),
  setDisabled: staffProcedure('admin')
    .input(backoffice.apiKeyDisableInput)
    .mutation(({ ctx, input }) => ctx.services.staff.setApiKeyDisabled(input.apiKeyId, input.disabled, ctx.actor)),
});
