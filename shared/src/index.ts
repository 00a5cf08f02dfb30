export * from './money.js';
export * from './status.js';
export * from './payments.js';
export type * from './orders.js';
export * as schemas from './schemas.js';
export type { Customer, CreateOrderInput, OrderItem } from './schemas.js';
export * as backoffice from './backoffice.js';
export type * from './backoffice.js';
export { createOrdersClient, type OrdersClient, type OrdersClientOptions, type AppRouter } from './client.js';
