/**
 * The slice of a pino logger the PayPal code uses, so callers can inject pino itself or a test
 * double. Call sites pass structured fields first, the message second — never credentials.
 */
export interface PaypalLogger {
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

export const silentLogger: PaypalLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
