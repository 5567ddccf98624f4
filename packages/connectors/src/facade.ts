import type { ErrorCode, Logger, MetricKey } from '@preflight/core';
import type { EndpointField, TenantScope } from './scope/tenant-scope.js';
import type { OperationSessions } from './sessions.js';

export type LogicalType = 'string' | 'integer' | 'number' | 'boolean' | 'date' | 'timestamp' | 'object' | 'array' | 'binary' | 'unknown';

export interface DiscoveredField {
  name: string;
  logicalType: LogicalType;
  physicalType: string;
  nullable: boolean;
  primaryKey: boolean;
}

export interface DiscoveredDataset {
  /** Unqualified table, endpoint or file name. */
  name: string;
  /** PostgreSQL schema, MySQL database. */
  namespace?: string;
  kind: 'table' | 'view' | 'endpoint' | 'file';
  fields: DiscoveredField[];
  primaryKey: string[];
}

export interface DiscoveryResult {
  datasets: DiscoveredDataset[];
  durationMs: number;
}

export interface HandshakeResult {
  serverVersion: string;
  tls: { enabled: boolean; protocol?: string; cipher?: string };
  latencyMs: number;
  principal: string;
  attempts: number;
  durationMs: number;
}

/** The facts a credential audit judges; gathered, never judged, by the connector. */
export interface AccessFacts {
  principal: string;
  superuser: boolean;
  canCreateRole: boolean;
  canCreateDb: boolean;
  readable: string[];
  writable: string[];
  grants: Array<{ object: string; privilege: string }>;
  tokenScopes?: string[];
  tls: boolean;
  host: string;
}

export interface SampleResult {
  dataset: string;
  rows: Array<Record<string, unknown>>;
  truncated: boolean;
}

export interface SecretResolution {
  value: string;
  ref: string;
  scheme: string;
  /** ISO instant of the last rotation, when the store can tell (a mounted file's mtime). */
  rotatedAt?: string;
  ageDays?: number;
}

export interface OperationContext {
  /**
   * The tenant's scope: the only way a connector resolves a secret, opens a file or checks an
   * address before connecting. There is no unscoped path.
   */
  scope: TenantScope;
  signal?: AbortSignal;
  logger?: Logger;
  /** Overrides the manifest's timeout for this call. */
  timeoutMs?: number;
  /**
   * Sessions the operations of one check may share (a SQL source's connection); the caller
   * closes them when the check is done. Absent: each operation opens and closes its own.
   */
  sessions?: OperationSessions;
}

export type OperationName = 'handshake' | 'discover' | 'sample' | 'pushdown' | 'auditAccess';

/** The connector facade standard's manifest: everything a reviewer needs, as checked data. */
export interface ConnectorManifest {
  /** The `type` in a connector config. */
  type: string;
  displayName: string;
  version: string;
  class: 'data-movement' | 'runtime-tool';
  contract: {
    /** JSON-Schema-like description of the config. */
    configSchema: Record<string, unknown>;
    /** Dotted config paths that hold secret references (never values). */
    secretFields: string[];
    /** Where the config keeps network addresses: checked against the egress policy before connecting. */
    endpoints: EndpointField[];
    /** Dotted config paths that hold local paths: confined to the tenant's files root. */
    paths: string[];
  };
  retry: { retriableCodes: ErrorCode[]; attempts: number; initialBackoffMs: number; maxBackoffMs: number };
  timeouts: Record<OperationName, number>;
  idempotency: { description: string; key: (config: unknown) => string };
  approvalHook: { name: string; description: string };
  audit: {
    /** Config paths copied into audit events (`source.<path>`). */
    fields: string[];
    /** Config paths that must never appear in audit events. */
    redacted: string[];
  };
  observability: { spans: string[]; metrics: MetricKey[] };
  rollback: string;
}

export interface ConnectorModule<C = unknown> {
  manifest: ConnectorManifest;
  /** Validates a raw config, reporting every bad field at once; rejects plaintext secrets. */
  parseConfig(raw: unknown): C;
  handshake(config: C, ctx: OperationContext): Promise<HandshakeResult>;
  discover(config: C, ctx: OperationContext, opts?: { datasets?: string[] }): Promise<DiscoveryResult>;
  sample(config: C, ctx: OperationContext, dataset: string, limit: number): Promise<SampleResult>;
  pushdown?: {
    dialect: 'postgres' | 'mysql';
    query(config: C, ctx: OperationContext, sql: string, params: unknown[]): Promise<Array<Record<string, unknown>>>;
    quoteIdent(name: string): string;
  };
  auditAccess(config: C, ctx: OperationContext, datasets: string[]): Promise<AccessFacts>;
}
