import {
  NotificationDispatcher,
  type Delivery,
  type DeliveryAttempt,
  type DispatcherOptions,
  type DispatchMode,
} from './notification-dispatcher.js';

export type IpnMode = DispatchMode;
export type IpnAttempt = DeliveryAttempt;
export type IpnDelivery = Delivery;

export interface IpnLogEntry {
  notifyUrl: string;
  /** The exact bytes posted; only these verify as VERIFIED. */
  body: string;
  fields: Record<string, string>;
  createdAt: string;
  held: boolean;
  deliveries: IpnDelivery[];
}

/**
 * Posts IPN messages the way PayPal does: form-encoded, resent unchanged until the listener answers
 * 200, and remembered byte-for-byte so the _notify-validate postback can tell genuine from forged.
 */
export class IpnDispatcher extends NotificationDispatcher<IpnLogEntry> {
  private genuineBodies = new Set<string>();

  constructor(options: DispatcherOptions, saved: { id: string; body: unknown }[] = []) {
    super(
      {
        name: 'IPN',
        request: (entry) => ({
          url: entry.notifyUrl,
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'user-agent': 'PayPal IPN ( https://www.paypal.com/ipn )',
          },
          body: entry.body,
        }),
        // PayPal resends an IPN for anything but 200 itself.
        accepted: (status) => status === 200,
        logContext: (entry) => ({ txnId: entry.fields.txn_id, paymentStatus: entry.fields.payment_status }),
      },
      options,
      'ipn_message',
    );
    // What an earlier run sent stays genuine: its listener may verify it only after this restart.
    for (const entry of this.restore(saved)) this.genuineBodies.add(entry.body);
  }

  /** `fields` as name/value pairs keeps their order, which is part of the bytes verification compares. */
  send(fields: readonly [string, string][] | Record<string, string>, notifyUrl: string): IpnLogEntry {
    const params = new URLSearchParams(fields);
    const body = params.toString();
    this.genuineBodies.add(body);
    return this.dispatch({
      notifyUrl,
      body,
      fields: Object.fromEntries(params),
      createdAt: new Date().toISOString(),
      held: false,
      deliveries: [],
    });
  }

  isGenuine(rawBody: string): boolean {
    return this.genuineBodies.has(rawBody);
  }

  override reset(): void {
    super.reset();
    this.genuineBodies.clear();
  }
}
