import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';
import { trace } from '@opentelemetry/api';
import { SECRET_KEYS } from './redact.js';

export type { Logger } from 'pino';

/** pino redact paths: secret-named keys at the top level and up to three levels deep. */
const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`]).concat([
  'req.headers.authorization',
  'headers.authorization',
]);

export interface LoggerSettings {
  service: string;
  version?: string;
  level?: string;
  /** For tests that capture every line written. */
  destination?: DestinationStream;
}

/**
 * A JSON logger whose every line carries the service and, inside an active span, the trace id, so
 * a line can be joined to its trace without anyone remembering to add it.
 */
export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? process.env['LOG_LEVEL'] ?? 'info',
    base: { service: settings.service, ...(settings.version ? { version: settings.version } : {}) },
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin() {
      const span = trace.getActiveSpan();
      if (!span) return {};
      const ctx = span.spanContext();
      return { traceId: ctx.traceId, spanId: ctx.spanId };
    },
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}

/** A logger that writes nowhere; for unit tests of handlers that take a logger. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
