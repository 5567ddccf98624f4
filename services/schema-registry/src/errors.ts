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
  SUBJECT_LEVEL_MODE_NOT_CONFIGURED: 40409,
  INCOMPATIBLE: 409,
  INVALID_SCHEMA: 42201,
  INVALID_VERSION: 42202,
  INVALID_COMPATIBILITY_LEVEL: 42203,
  INVALID_MODE: 42204,
  OPERATION_NOT_PERMITTED: 42205,
  REFERENCE_EXISTS: 42206,
  ID_DOES_NOT_MATCH: 42207,
  INVALID_SUBJECT: 42208,
  INVALID_RULESET: 42210,
  STORE_ERROR: 50001,
  OPERATION_TIMEOUT: 50002,
} as const;

/** An error a client sees as `{"error_code", "message"}` with an HTTP status, as Confluent answers. */
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

// Messages follow Confluent's wording where a client or a human might recognise it.
export const subjectNotFound = (s: string): RegistryError => new RegistryError(404, CODES.SUBJECT_NOT_FOUND, `Subject '${s}' not found.`);
export const versionNotFound = (v: number | string): RegistryError => new RegistryError(404, CODES.VERSION_NOT_FOUND, `Version ${v} not found.`);
export const schemaNotFound = (id?: number): RegistryError =>
  new RegistryError(404, CODES.SCHEMA_NOT_FOUND, id === undefined ? 'Schema not found' : `Schema ${id} not found`);
export const subjectSoftDeleted = (s: string): RegistryError =>
  new RegistryError(404, CODES.SUBJECT_SOFT_DELETED, `Subject '${s}' was soft deleted. Set permanent=true to delete permanently`);
export const subjectNotSoftDeleted = (s: string): RegistryError =>
  new RegistryError(404, CODES.SUBJECT_NOT_SOFT_DELETED, `Subject '${s}' was not deleted first before being permanently deleted`);
export const versionSoftDeleted = (s: string, v: number): RegistryError =>
  new RegistryError(404, CODES.VERSION_SOFT_DELETED, `Subject '${s}' Version ${v} was soft deleted. Set permanent=true to delete permanently`);
export const versionNotSoftDeleted = (s: string, v: number): RegistryError =>
  new RegistryError(404, CODES.VERSION_NOT_SOFT_DELETED, `Subject '${s}' Version ${v} was not deleted first before being permanently deleted`);
export const compatibilityNotConfigured = (s: string): RegistryError =>
  new RegistryError(404, CODES.SUBJECT_LEVEL_COMPATIBILITY_NOT_CONFIGURED, `Subject '${s}' does not have subject-level compatibility configured`);
export const modeNotConfigured = (s: string): RegistryError =>
  new RegistryError(404, CODES.SUBJECT_LEVEL_MODE_NOT_CONFIGURED, `Subject '${s}' does not have subject-level mode configured`);
export const incompatible = (subject: string, details: string[]): RegistryError =>
  new RegistryError(409, CODES.INCOMPATIBLE, `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${details.join(', ')}]`);
export const invalidSchema = (msg: string): RegistryError => new RegistryError(422, CODES.INVALID_SCHEMA, `Invalid schema: ${msg}`);
export const invalidVersion = (v: string): RegistryError =>
  new RegistryError(422, CODES.INVALID_VERSION, `The specified version '${v}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`);
export const invalidCompatibility = (v: unknown): RegistryError =>
  new RegistryError(
    422,
    CODES.INVALID_COMPATIBILITY_LEVEL,
    `Invalid compatibility level ${JSON.stringify(v) ?? 'undefined'}. Valid values are NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL and FULL_TRANSITIVE`,
  );
export const invalidMode = (v: unknown): RegistryError =>
  new RegistryError(422, CODES.INVALID_MODE, `Invalid mode ${JSON.stringify(v) ?? 'undefined'}. Valid values are READWRITE, READONLY, READONLY_OVERRIDE and IMPORT`);
export const notPermitted = (msg: string): RegistryError => new RegistryError(422, CODES.OPERATION_NOT_PERMITTED, msg);
export const referenceExists = (s: string, v: number): RegistryError =>
  new RegistryError(422, CODES.REFERENCE_EXISTS, `One or more references exist to the schema {magic=1,keytype=SCHEMA,subject=${s},version=${v}}`);
export const idDoesNotMatch = (id: number): RegistryError =>
  new RegistryError(422, CODES.ID_DOES_NOT_MATCH, `Schema id ${id} is already taken by a different schema`);
export const invalidSubject = (s: string): RegistryError => new RegistryError(422, CODES.INVALID_SUBJECT, `The specified subject '${s}' is not valid.`);
export const invalidRuleSet = (msg: string): RegistryError => new RegistryError(422, CODES.INVALID_RULESET, `Invalid rule set: ${msg}`);
export const storeError = (msg: string): RegistryError => new RegistryError(500, CODES.STORE_ERROR, `Error in the backend data store: ${msg}`);
export const storeTimeout = (msg: string): RegistryError => new RegistryError(500, CODES.OPERATION_TIMEOUT, `Operation timed out: ${msg}`);
