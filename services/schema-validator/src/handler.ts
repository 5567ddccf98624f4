import { PreflightError, toPreflightError, type Logger } from '@preflight/core';
import type { ConnectorEvent, ConnectorHandshake, ConnectorIncidentOpened, ConnectorIncidentResolved, ConnectorSpec } from '@preflight/events';
import type { Handlers } from '@preflight/bus';
import { OperationSessions, type ConnectorModule, type OperationContext, type Scopes } from '@preflight/connectors';
import { applyServer, checkpointSeverity, contractDatasets, diffSchema, parseContract, runCheckpoint, type CheckpointExecutor, type CheckpointResult, type DiffEntry } from '@preflight/contracts';
import { decideSchemaCheck, incidentFor, OpenIncidents, resolutionsFor, type SchemaCheckOutcome } from './decide.js';
import type { IncidentSink } from './sink.js';

export interface SchemaValidatorDeps {
  connectors: (sourceType: string) => ConnectorModule;
  /** Every secret, address and path is resolved inside the event's tenant. */
  scopes: Scopes;
  logger: Logger;
  incidentSink: IncidentSink;
  /** The connectors' open incidents; the service rebuilds it from the log at start. */
  incidents?: OpenIncidents;
  /** The most failed-row samples per failed expectation a contract may ask for (PREFLIGHT_FAILED_ROW_SAMPLES_MAX). */
  maxFailedRowSamples?: number;
  publish: (...events: ConnectorEvent[]) => Promise<void>;
}

/**
 * SQL sources answer expectations with pushdown queries; the others with a bounded sample. Within
 * one check the same query is asked once: a primary key's uniqueness and a duplicateValues rule on
 * the same column are the same full scan (the larger part of a PostgreSQL check's query time in
 * the bench, issue 14), and the session is read-only, so the answer cannot differ.
 */
function executorFor(module: ConnectorModule, config: unknown, ctx: OperationContext): CheckpointExecutor {
  const pushdown = module.pushdown;
  if (pushdown) {
    const asked = new Map<string, Promise<Array<Record<string, unknown>>>>();
    return {
      kind: 'sql',
      dialect: pushdown.dialect,
      quoteIdent: (name) => pushdown.quoteIdent(name),
      query: (sql, params) => {
        let key: string;
        try {
          key = `${sql}\u0000${JSON.stringify(params)}`;
        } catch {
          return pushdown.query(config, ctx, sql, params); // a parameter JSON cannot spell: not shared
        }
        let answer = asked.get(key);
        if (!answer) {
          answer = pushdown.query(config, ctx, sql, params);
          asked.set(key, answer);
          // A failed query is asked again (a retry may find the source back).
          answer.catch(() => asked.delete(key));
        }
        // Each caller gets its own rows: the checkpoint may annotate what it reads.
        return answer.then((rows) => rows.map((r) => ({ ...r })));
      },
    };
  }
  return { kind: 'rows', sample: (dataset, limit) => module.sample(config, ctx, dataset, limit) };
}

/**
 * A dataset or column the principal cannot read is a PERMISSION finding naming the grant to add,
 * once per object — not a missing column, and not one failure per expectation.
 */
export function permissionFindings(checkpoint: CheckpointResult, principal: unknown, schema?: unknown): DiffEntry[] {
  const who = typeof principal === 'string' && principal ? principal : '<the connector principal>';
  const qualified = (dataset: string): string => (typeof schema === 'string' && schema && !dataset.includes('.') ? `${schema}.${dataset}` : dataset);
  const seen = new Map<string, DiffEntry>();
  for (const r of checkpoint.results) {
    if (r.exception_info.error_code !== 'PERMISSION') continue;
    const { dataset, column } = r.expectation_config.meta;
    const columnLevel = / column /i.test(r.exception_info.exception_message ?? '') && column !== undefined;
    const key = columnLevel ? `${dataset}.${column}` : dataset;
    if (seen.has(key)) continue;
    const grant = columnLevel ? `GRANT SELECT (${column}) ON ${qualified(dataset)} TO ${who}` : `GRANT SELECT ON ${qualified(dataset)} TO ${who}`;
    seen.set(key, {
      kind: 'PERMISSION',
      dataset,
      ...(columnLevel ? { field: column } : {}),
      expected: 'SELECT',
      actual: 'denied',
      severity: 'ERROR',
      message: `${key} exists but ${who} cannot read it: ${grant}`,
      pii: r.expectation_config.meta.pii,
    });
  }
  return [...seen.values()];
}

export async function performSchemaCheck(tenantId: string, spec: ConnectorSpec, attemptId: string, deps: Pick<SchemaValidatorDeps, 'connectors' | 'scopes' | 'maxFailedRowSamples'>, logger: Logger): Promise<SchemaCheckOutcome> {
  const started = performance.now();
  let contractId: string | null = null;
  let contractVersion: string | null = null;
  // Discovery and every expectation of this check share one source session; closed when done.
  const sessions = new OperationSessions();
  try {
    if (!spec.contractYaml) throw new PreflightError('CONFIG', 'spec.contractYaml: the connector has no data contract to check against', { retriable: false });
    const contract = parseContract(spec.contractYaml);
    contractId = contract.id;
    contractVersion = contract.version;
    const module = deps.connectors(spec.sourceType);
    const raw: unknown = JSON.parse(spec.configJson);
    const resolved = applyServer(contract, raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {}, { sourceType: spec.sourceType, environment: spec.environment });
    const config = module.parseConfig(resolved.config);
    const ctx: OperationContext = { scope: deps.scopes.forTenant(tenantId), logger, sessions };
    const discovered = await module.discover(config, ctx, { datasets: contractDatasets(contract) });
    const dialect = module.pushdown?.dialect;
    const diff = diffSchema(contract, discovered, dialect ? { dialect } : undefined);
    const catalog = new Map(discovered.datasets.map((d) => [d.name.toLowerCase(), new Set(d.fields.map((f) => f.name.toLowerCase()))] as const));
    const checkpoint = await runCheckpoint(contract, executorFor(module, config, ctx), { runId: attemptId, catalog, ...(deps.maxFailedRowSamples !== undefined ? { maxFailedRowSamples: deps.maxFailedRowSamples } : {}) });
    const conflicts: DiffEntry[] = resolved.conflicts.map((c) => ({
      kind: 'SERVER_CONFLICT',
      dataset: '*',
      field: c.field,
      expected: c.server,
      actual: c.config,
      severity: 'WARNING',
      message: `config.${c.field} '${c.config}' overrides servers[${c.serverName}].${c.field} '${c.server}' of the contract`,
      pii: false,
    }));
    const entries = [...conflicts, ...diff.entries, ...permissionFindings(checkpoint, (config as { user?: unknown }).user, (config as { schema?: unknown }).schema)];
    return {
      ok: true,
      contractId: contract.id,
      contractVersion: contract.version,
      datasetsDiscovered: discovered.datasets.length,
      diff: entries,
      checkpoint,
      checkpointSeverity: checkpoint.success ? null : checkpointSeverity(checkpoint, contract),
      durationMs: performance.now() - started,
    };
  } catch (e) {
    const err = toPreflightError(e, 'SOURCE');
    return { ok: false, error: { code: err.code, message: err.message, retriable: err.retriable }, durationMs: performance.now() - started, contractId, contractVersion };
  } finally {
    await sessions.close();
  }
}

export function schemaValidatorHandlers(deps: SchemaValidatorDeps): Handlers {
  const incidents = deps.incidents ?? new OpenIncidents();
  return {
    'connector.handshake': async (input: ConnectorHandshake) => {
      if (input.status !== 'COMPLETED') return;
      const log = deps.logger.child({ connectorId: input.connectorId, correlationId: input.correlationId, tenantId: input.tenantId });
      const outcome = await performSchemaCheck(input.tenantId, input.spec, input.correlationId, deps, log);
      // The adapter reads the clock once; the decide functions take it.
      const now = new Date();
      const ticket = incidentFor(input, outcome, now);
      const open = incidents.of(input.connectorId);
      const repeat = ticket !== null && open.some((o) => o.incidentId === ticket.incidentId);
      const delivery = ticket ? await deps.incidentSink.deliver({ ...ticket, action: repeat ? 'update' : 'open' }) : null;
      const resolutions = await Promise.all(
        resolutionsFor(input, outcome, ticket, open, now).map(async (resolution) => ({ resolution, delivery: await deps.incidentSink.deliver({ ...resolution, action: 'resolve' }) })),
      );
      const events = decideSchemaCheck(input, outcome, ticket, delivery, resolutions);
      if (!outcome.ok) log.error({ code: outcome.error.code, reason: outcome.error.message }, `schema check could not run: ${outcome.error.code}`);
      else if (ticket) log.error({ incidentId: ticket.incidentId, severity: ticket.severity, kind: ticket.kind, delivery, repeat }, `incident ${repeat ? 'seen again' : 'opened'}: ${ticket.summary}`);
      else log.info({ durationMs: outcome.durationMs, datasets: outcome.datasetsDiscovered }, 'schema check passed');
      for (const { resolution: r, delivery: d } of resolutions) log.info({ incidentId: r.incidentId, reason: r.reason, delivery: d }, `incident resolved: ${r.summary}`);
      await deps.publish(...events);
      for (const e of events) if (e.eventType === 'connector.incident.opened' || e.eventType === 'connector.incident.resolved') incidents.apply(e);
    },
    // Also what other instances decided for this partition's connectors before a rebalance.
    'connector.incident.opened': async (e: ConnectorIncidentOpened) => incidents.apply(e),
    'connector.incident.resolved': async (e: ConnectorIncidentResolved) => incidents.apply(e),
  };
}
