import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Structured logs; anything that could carry a credential is redacted at the source. */
export function createLogger(level = 'info', destination?: DestinationStream): Logger {
  const options: LoggerOptions<never> = {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        '*.password',
        '*.token',
        '*.apiKey',
        '*.clientSecret',
        'password',
        'token',
        'apiKey',
        'clientSecret',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino<never>(options, destination) : pino<never>(options);
}
