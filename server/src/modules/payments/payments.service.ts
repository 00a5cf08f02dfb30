import type { Customer, AttemptStatus, Currency, ResyncResult } from '@orders/shared';
import type { Actor } from '../audit/audit.service.js';
import { handleCancel, handleReturn, attemptStatus, type ReturnResult } from './buyer-return.js';
import { updateAttempt } from './caller-reports.js';
import { attemptToPay, type AttemptToPayResult } from './checkout.js';
import { expireStaleAttempts } from './attempt.transitions.js';
import { processIpn, receiveIpn, requeueStrandedIpns } from './ipn-notifications.js';
import type { Processing } from './payment-events.js';
import type { PaymentsDeps } from './payments.deps.js';
import { resync } from './resync.js';

export type { IpnQueue, PaymentsConfig } from './payments.deps.js';
export type { AttemptToPayResult } from './checkout.js';
export type { ReturnResult } from './buyer-return.js';

/**
 * The payments module's entry points, one use-case file each: checkout.ts (attemptToPay),
 * buyer-return.ts (the return and cancel pages), caller-reports.ts (updateAttempt),
 * ipn-notifications.ts (the IPN inbox), resync.ts (staff re-sync); attempt.transitions.ts for the sweep.
 */
export class PaymentsService {
  constructor(private readonly deps: PaymentsDeps) {}

  attemptToPay(customer: Customer, input: { orderId: string; returnUrl?: string; cancelUrl?: string }, actor: Actor): Promise<AttemptToPayResult> {
    return attemptToPay(this.deps, customer, input, actor);
  }

  handleReturn(query: { paymentId?: string; payerId?: string; token?: string }): Promise<ReturnResult> {
    return handleReturn(this.deps, query);
  }

  handleCancel(query: { attemptId?: string; token?: string }): Promise<ReturnResult> {
    return handleCancel(this.deps, query);
  }

  attemptStatus(attemptId: string): Promise<ReturnResult> {
    return attemptStatus(this.deps, attemptId);
  }

  updateAttempt(input: { externalId: string; status: AttemptStatus; amount: number; currency: Currency }, actor: Actor) {
    return updateAttempt(this.deps, input, actor);
  }

  receiveIpn(raw: Buffer): Promise<string> {
    return receiveIpn(this.deps, raw);
  }

  processIpn(eventId: string): Promise<Processing> {
    return processIpn(this.deps, eventId);
  }

  requeueStrandedIpns(olderThanSeconds = 30, round?: string): Promise<number> {
    return requeueStrandedIpns(this.deps, olderThanSeconds, round);
  }

  /** Attempts nobody finished (the buyer never came back) stop counting as open after `olderThanMinutes`. */
  expireStaleAttempts(olderThanMinutes = 180): Promise<number> {
    return expireStaleAttempts(this.deps.orm.em.fork(), olderThanMinutes);
  }

  resync(attemptId: string, actor: Actor, reason?: string | null): Promise<ResyncResult> {
    return resync(this.deps, attemptId, actor, reason);
  }
}
