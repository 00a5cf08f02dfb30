import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from './logger.js';
import { BackofficeService } from './modules/backoffice/backoffice.service.js';
import { DashboardService } from './modules/backoffice/dashboard.js';
import { OrderChangeFeed } from './modules/backoffice/order-changes.js';
import { CartsService } from './modules/carts/carts.service.js';
import { CatalogService } from './modules/catalog/catalog.service.js';
import { OrdersService } from './modules/orders/orders.service.js';
import { OrderNotesService } from './modules/orders/order-notes.js';
import { PaymentsService, type IpnQueue, type PaymentsConfig } from './modules/payments/payments.service.js';
import { RefundsService } from './modules/payments/refunds.service.js';
import { WebhooksService, type WebhookQueue, type WebhooksConfig } from './modules/payments/webhooks.service.js';
import { ReconciliationService } from './modules/reconciliation/reconciliation.service.js';
import { StaffService } from './modules/staff/staff.service.js';
import { DEFAULT_LOGIN_LOCKOUT, LoginLockout } from './modules/staff/login-lockout.js';
import type { PaymentGateway } from './paypal/gateway.js';

export interface Services {
  orm: MikroORM;
  catalog: CatalogService;
  carts: CartsService;
  orders: OrdersService;
  payments: PaymentsService;
  webhooks: WebhooksService;
  refunds: RefundsService;
  staff: StaffService;
  backoffice: BackofficeService;
  notes: OrderNotesService;
  reconciliation: ReconciliationService;
  /** The back office's first screen (its backlog and lag figures are also /metrics'). */
  dashboard: DashboardService;
  /** Live order changes; server.ts starts and closes its LISTEN connection. */
  orderChanges: OrderChangeFeed;
}

export interface ServiceDependencies {
  orm: MikroORM;
  gateway: PaymentGateway;
  payments: PaymentsConfig;
  webhooks: WebhooksConfig;
  queue: IpnQueue & WebhookQueue;
  logger: Logger;
  /** A session connection for LISTEN (DATABASE_DIRECT_URL); MikroORM's URL when absent. */
  listenUrl?: string;
  /** AUTO_REFUND_DUPLICATES: refund a second capture for an already paid order through PayPal at once. */
  refundDuplicates: boolean;
  /** Failed logins that lock an email (LOGIN_LOCK_AFTER_FAILURES); the default when absent. */
  loginLockAfterFailures?: number;
}

export function createServices(deps: ServiceDependencies): Services {
  const refunds = new RefundsService(deps.orm, deps.gateway, deps.logger.child({ component: 'refunds' }));
  const reconciliation = new ReconciliationService(deps.orm);
  const duplicates = { refundDuplicates: deps.refundDuplicates, sendRefund: (refundId: string) => refunds.sendRequested(refundId) };
  return {
    orm: deps.orm,
    catalog: new CatalogService(deps.orm),
    carts: new CartsService(deps.orm),
    orders: new OrdersService(deps.orm),
    payments: new PaymentsService({ orm: deps.orm, gateway: deps.gateway, config: deps.payments, queue: deps.queue, logger: deps.logger, duplicates }),
    webhooks: new WebhooksService(deps.orm, deps.gateway, deps.webhooks, deps.queue, deps.logger.child({ component: 'webhooks' }), duplicates),
    refunds,
    staff: new StaffService(
      deps.orm,
      new LoginLockout({ ...DEFAULT_LOGIN_LOCKOUT, failuresBeforeLock: deps.loginLockAfterFailures ?? DEFAULT_LOGIN_LOCKOUT.failuresBeforeLock }),
    ),
    backoffice: new BackofficeService(deps.orm),
    notes: new OrderNotesService(deps.orm),
    reconciliation,
    dashboard: new DashboardService(deps.orm, reconciliation),
    orderChanges: new OrderChangeFeed(deps.listenUrl ?? deps.orm.config.get('clientUrl')!, deps.logger.child({ component: 'order-changes' })),
  };
}
