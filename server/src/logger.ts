import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export interface LogOutput {
  /** Human-readable lines instead of JSON; default: when standard output is a terminal. */
  pretty?: boolean;
}

/**
 * Structured logs; anything that could carry a credential is redacted at the source. JSON lines for
 * machines (a pipe, a file, a log shipper); on a terminal, readable lines through pino-pretty.
 */
export function createLogger(level = 'info', destination?: DestinationStream, output: LogOutput = {}): Logger {
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
  const readable = output.pretty ?? (!destination && process.stdout.isTTY === true);
  if (readable) {
    const lines = pretty({
      colorize: !destination,
      translateTime: 'SYS:HH:MM:ss',
      ignore: 'pid,hostname',
      // Synchronous, so the last lines before process.exit() are not lost.
      sync: true,
      ...(destination ? { destination } : {}),
    });
    return pino<never>(options, lines);
  }
  return destination ? pino<never>(options, destination) : pino<never>(options);
}
