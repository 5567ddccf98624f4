/**
 * One error base for the whole platform. Codes are stable API: events, receipts, HTTP bodies and
 * dead-letter headers carry them, so renaming one is a breaking change.
 */
export const ERROR_CODES = [
  // Source-facing (connector facade)
  'CONNECTIVITY',
  'TIMEOUT',
  'TLS',
  'AUTH',
  'PERMISSION',
  'CONFIG',
  'SOURCE',
  // Platform-facing
  'VALIDATION',
  'DECODE',
  'NOT_FOUND',
  'CONFLICT',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'SCHEMA_REGISTRY',
  'BUS',
  'ABORTED',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * The HTTP status each code answers with, beside the codes so a new code cannot ship without one
 * (the type demands every key). Source-facing failures seen through the API are the platform's
 * problem to report, not the caller's mistake, hence 500; the bus and registry being away is 503.
 */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  CONNECTIVITY: 500,
  TIMEOUT: 500,
  TLS: 500,
  AUTH: 500,
  PERMISSION: 500,
  CONFIG: 400,
  SOURCE: 500,
  VALIDATION: 400,
  DECODE: 500,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  SCHEMA_REGISTRY: 503,
  BUS: 503,
  ABORTED: 500,
  INTERNAL: 500,
};

/** Codes that are transient by nature; a caller may still override per instance. */
const RETRIABLE_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['CONNECTIVITY', 'TIMEOUT', 'BUS', 'SCHEMA_REGISTRY']);

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `config.port` or `schema[0].properties[2].logicalType`. */
  field: string;
  message: string;
  /** The offending value, already made safe to show (never a secret). */
  value?: unknown;
}

export interface PreflightErrorOptions {
  cause?: unknown;
  retriable?: boolean;
  details?: Record<string, unknown>;
  issues?: FieldIssue[];
}

export class PreflightError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly details: Record<string, unknown>;
  readonly issues: FieldIssue[];

  constructor(code: ErrorCode, message: string, options: PreflightErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PreflightError';
    this.code = code;
    this.retriable = options.retriable ?? RETRIABLE_BY_DEFAULT.has(code);
    this.details = options.details ?? {};
    this.issues = options.issues ?? [];
  }

  /** The shape that leaves the process (HTTP bodies, events, logs): no stack, no cause chain. */
  toJSON(): { code: ErrorCode; message: string; retriable: boolean; details?: Record<string, unknown>; issues?: FieldIssue[] } {
    return {
      code: this.code,
      message: this.message,
      retriable: this.retriable,
      ...(Object.keys(this.details).length > 0 ? { details: this.details } : {}),
      ...(this.issues.length > 0 ? { issues: this.issues } : {}),
    };
  }
}

export function isPreflightError(e: unknown): e is PreflightError {
  return e instanceof PreflightError;
}

/** Wraps anything thrown into a PreflightError without losing the original as `cause`. */
export function toPreflightError(e: unknown, fallback: ErrorCode = 'INTERNAL'): PreflightError {
  if (e instanceof PreflightError) return e;
  if (e instanceof Error) {
    if (e.name === 'AbortError') return new PreflightError('ABORTED', e.message, { cause: e, retriable: false });
    return new PreflightError(fallback, e.message, { cause: e });
  }
  return new PreflightError(fallback, String(e));
}

/** A validation error that reports every bad field at once, not just the first. */
export function validationError(issues: FieldIssue[], summary?: string): PreflightError {
  const message =
    summary ?? `invalid input: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`;
  return new PreflightError('VALIDATION', message, { issues, retriable: false });
}
