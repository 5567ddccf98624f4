import { PreflightError, toPreflightError, type Logger } from '@preflight/core';
import type { ConnectorEvent, ConnectorHandshake, ConnectorSpec } from '@preflight/events';
import type { Handlers } from '@preflight/bus';
import type { ConnectorModule, OperationContext, Scopes } from '@preflight/connectors';
import { checkpointSeverity, contractDatasets, diffSchema, parseContract, runCheckpoint, type CheckpointExecutor } from '@preflight/contracts';
import { decideSchemaCheck, incidentFor, type SchemaCheckOutcome } from './decide.js';
import type { IncidentSink } from './sink.js';

export interface SchemaValidatorDeps {
  connectors: (sourceType: string) => ConnectorModule;
  /** Every secret, address and path is resolved inside the event's tenant. */
  scopes: Scopes;
  logger: Logger;
  incidentSink: IncidentSink;
  publish: (...events: ConnectorEvent[]) => Promise<void>;
}

/** SQL sources answer expectations with pushdown queries; the others with a bounded sample. */
function executorFor(module: ConnectorModule, config: unknown, ctx: OperationContext): CheckpointExecutor {
  const pushdown = module.pushdown;
  if (pushdown) {
    return {
      kind: 'sql',
      dialect: pushdown.dialect,
      quoteIdent: (name) => pushdown.quoteIdent(name),
      query: (sql, params) => pushdown.query(config, ctx, sql, params),
    };
  }
  return { kind: 'rows', sample: (dataset, limit) => module.sample(config, ctx, dataset, limit) };
}

export async function performSchemaCheck(tenantId: string, spec: ConnectorSpec, attemptId: string, deps: Pick<SchemaValidatorDeps, 'connectors' | 'scopes'>, logger: Logger): Promise<SchemaCheckOutcome> {
  const started = performance.now();
  let contractId: string | null = null;
  let contractVersion: string | null = null;
  try {
    if (!spec.contractYaml) throw new PreflightError('CONFIG', 'spec.contractYaml: the connector has no data contract to check against', { retriable: false });
    const contract = parseContract(spec.contractYaml);
    contractId = contract.id;
    contractVersion = contract.version;
    const module = deps.connectors(spec.sourceType);
    const config = module.parseConfig(JSON.parse(spec.configJson));
    const ctx: OperationContext = { scope: deps.scopes.forTenant(tenantId), logger };
    const discovered = await module.discover(config, ctx, { datasets: contractDatasets(contract) });
    const diff = diffSchema(contract, discovered);
    const checkpoint = await runCheckpoint(contract, executorFor(module, config, ctx), { runId: attemptId });
    return {
      ok: true,
      contractId: contract.id,
      contractVersion: contract.version,
      datasetsDiscovered: discovered.datasets.length,
      diff: diff.entries,
      checkpoint,
      checkpointSeverity: checkpoint.success ? null : checkpointSeverity(checkpoint, contract),
      durationMs: performance.now() - started,
    };
  } catch (e) {
    const err = toPreflightError(e, 'SOURCE');
    return { ok: false, error: { code: err.code, message: err.message, retriable: err.retriable }, durationMs: performance.now() - started, contractId, contractVersion };
  }
}

export function schemaValidatorHandlers(deps: SchemaValidatorDeps): Handlers {
  return {
    'connector.handshake': async (input: ConnectorHandshake) => {
      if (input.status !== 'COMPLETED') return;
      const log = deps.logger.child({ connectorId: input.connectorId, correlationId: input.correlationId, tenantId: input.tenantId });
      const outcome = await performSchemaCheck(input.tenantId, input.spec, input.correlationId, deps, log);
      const ticket = incidentFor(input, outcome);
      const delivery = ticket ? await deps.incidentSink.deliver(ticket) : null;
      const events = decideSchemaCheck(input, outcome, ticket, delivery);
      if (!outcome.ok) log.error({ code: outcome.error.code, reason: outcome.error.message }, `schema check could not run: ${outcome.error.code}`);
      else if (ticket) log.error({ incidentId: ticket.incidentId, severity: ticket.severity, kind: ticket.kind, delivery }, `incident opened: ${ticket.summary}`);
      else log.info({ durationMs: outcome.durationMs, datasets: outcome.datasetsDiscovered }, 'schema check passed');
      await deps.publish(...events);
    },
  };
}
