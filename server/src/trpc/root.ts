import { authRouter } from '../modules/staff/auth.router.js';
import { backofficeRouter } from '../modules/backoffice/backoffice.router.js';
import { cartsRouter } from '../modules/carts/carts.router.js';
import { catalogRouter } from '../modules/catalog/catalog.router.js';
import { ordersRouter } from '../modules/orders/orders.router.js';
import { paymentsRouter } from '../modules/payments/payments.router.js';
import { createCallerFactory, router } from './init.js';

export const appRouter = router({
  auth: authRouter,
  catalog: catalogRouter,
  carts: cartsRouter,
  orders: ordersRouter,
  payments: paymentsRouter,
  backoffice: backofficeRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
