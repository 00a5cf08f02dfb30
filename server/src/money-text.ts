import { formatMoney, isSupportedCurrency } from '@orders/shared';

/**
 * An amount in minor units written for people (staff texts: reconciliation details, payment-event outcomes),
 * the way the back office shows money: 3000 USD → "$30.00", 1500 JPY → "¥1,500" (no decimals), 1800 EUR → "€18.00".
 * A currency we do not support (only from a message we could not read) is written as it came: "3000 XYZ".
 */
export function moneyText(minor: number, currency: string | null | undefined): string {
  const code = (currency ?? '').toUpperCase();
  return isSupportedCurrency(code) && Number.isSafeInteger(minor) ? formatMoney(minor, code) : `${minor} ${currency ?? ''}`.trim();
}
