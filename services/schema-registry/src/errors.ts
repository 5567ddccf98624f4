/** Confluent Schema Registry error codes: clients branch on these numbers, so they must match. */
export const CODES = {
  SUBJECT_NOT_FOUND: 40401,
  VERSION_NOT_FOUND: 40402,
  SCHEMA_NOT_FOUND: 40403,
  SUBJECT_SOFT_DELETED: 40404,
  SUBJECT_NOT_SOFT_DELETED: 40405,
  VERSION_SOFT_DELETED: 40406,
  VERSION_NOT_SOFT_DELETED: 40407,
  SUBJECT_LEVEL_COMPATIBILITY_NOT_CONFIGURED: 40408,
  INCOMPATIBLE: 409,
  INVALID_SCHEMA: 42201,
  INVALID_VERSION: 42202,
  INVALID_COMPATIBILITY_LEVEL: 42203,
  INVALID_MODE: 42204,
  STORE_ERROR: 50001,
  OPERATION_TIMEOUT: 50002,
} as const;

export class RegistryError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
  toBody(): { error_code: number; message: string } {
    return { error_code: this.errorCode, message: this.message };
  }
}

export const subjectNotFound = (s: string): RegistryError => new RegistryError(404, CODES.SUBJECT_NOT_FOUND, `Subject '${s}' not found.`);
export const versionNotFound = (s: string, v: number | string): RegistryError => new RegistryError(404, CODES.VERSION_NOT_FOUND, `Version ${v} not found.`);
export const schemaNotFound = (what = 'Schema not found'): RegistryError => new RegistryError(404, CODES.SCHEMA_NOT_FOUND, what);
export const invalidSchema = (msg: string): RegistryError => new RegistryError(422, CODES.INVALID_SCHEMA, `Invalid schema: ${msg}`);
export const invalidVersion = (v: string): RegistryError =>
  new RegistryError(422, CODES.INVALID_VERSION, `The specified version '${v}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`);
export const invalidCompatibility = (v: unknown): RegistryError =>
  new RegistryError(422, CODES.INVALID_COMPATIBILITY_LEVEL, `Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive (got ${JSON.stringify(v)})`);
