import { randomBytes, randomInt } from 'node:crypto';

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const LOWER_HEX = '0123456789abcdef';

function randomString(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

// Shapes copied from real PayPal identifiers so code under test sees realistic lengths.
export const newPaymentId = () => `PAY-${randomString(UPPER_ALNUM, 24)}`;
export const newCheckoutToken = () => `EC-${randomString(UPPER_ALNUM, 17)}`;
/** Sale, refund and reversal ids share IPN's 17-character txn_id format. */
export const newTransactionId = () => randomString(UPPER_ALNUM, 17);
export const newPayerId = () => randomString(UPPER_ALNUM, 13);
export const newDebugId = () => randomString(LOWER_HEX, 13);
export const newIpnTrackId = () => randomString(LOWER_HEX, 13);
export const newAccessToken = () => `A21AA${randomString(UPPER_ALNUM + 'abcdefghijklmnopqrstuvwxyz-_', 92)}`;
export const newVerifySign = () => randomString(UPPER_ALNUM + 'abcdefghijklmnopqrstuvwxyz.-', 56);
/** Webhook event ids look like WH-2WR32451HC0233532-67976317FL4543714. */
export const newWebhookEventId = () => `WH-${randomString(UPPER_ALNUM, 19)}-${randomString(UPPER_ALNUM, 17)}`;
/** A webhook registration's id, e.g. 8PT597110X687430LKGECATA. */
export const newWebhookId = () => randomString(UPPER_ALNUM, 24);
export const newCertId = () => `CERT-${randomString(LOWER_HEX, 8)}-${randomString(LOWER_HEX, 8)}-${randomString(LOWER_HEX, 8)}`;
/** Stands in for PayPal's SHA256withRSA signature: as long and as opaque, checked by lookup instead. */
export const newTransmissionSig = () => randomBytes(256).toString('base64');
