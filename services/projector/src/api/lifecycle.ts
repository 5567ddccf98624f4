import type { FastifyPluginAsync } from 'fastify';
import { PreflightError, type FieldIssue } from '@preflight/core';
import { getConnector, TENANT_ID } from '@preflight/connectors';
import { contractChangelog, parseContract } from '@preflight/contracts';
import { newEvent, type ConnectorSpec, type ContractChangelogInfo } from '@preflight/events';
import type { Principal } from '@preflight/auth';
import type { ConnectorState } from '../state.js';
import { guard } from './auth.js';
import { actorOf, arrayOf, bool, connectorFor, ERROR_STATUSES, errorBody, idParam, nullableStr, open, PRODUCER, str, type ApiDeps } from './common.js';
import { validateRegistration } from './registration.js';

/** What a PATCH may change; name, sourceType and tenant make the connector's identity. */
const UPDATABLE = ['config', 'contract', 'environment', 'owner', 'labels'] as const;
const FIXED = ['name', 'sourceType', 'tenant'] as const;
const PRODUCTION = ['production', 'prod'];

export interface UpdatePlan {
  issues: FieldIssue[];
  spec?: ConnectorSpec;
  changed: string[];
  changelog: ContractChangelogInfo | null;
  autoPreflight: boolean;
  /** A breaking contract change in production: the preflight it starts waits for a security admin. */
  approvalRequired: boolean;
  reason: string | null;
}

/**
 * Pure: the connector after a PATCH, validated exactly as a registration (the current spec with
 * the body's fields on top goes through `validateRegistration`), what changed, and the contract
 * changelog classified breaking / non-breaking.
 */
export function planUpdate(current: ConnectorState, body: unknown, principal: Principal): UpdatePlan {
  const none: UpdatePlan = { issues: [], changed: [], changelog: null, autoPreflight: false, approvalRequired: false, reason: null };
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { ...none, issues: [{ field: 'body', message: 'must be a JSON object with any of config, contract, environment, owner, labels, reason, autoPreflight' }] };
  const b = body as Record<string, unknown>;
  const issues: FieldIssue[] = [];
  for (const f of FIXED) {
    const now = f === 'tenant' ? current.tenantId : f === 'name' ? current.spec.name : current.spec.sourceType;
    if (b[f] !== undefined && b[f] !== now) issues.push({ field: f, message: `cannot change (it is part of the connector's identity); register a new connector instead`, value: b[f] });
  }
  const known = new Set<string>([...UPDATABLE, ...FIXED, 'reason', 'autoPreflight']);
  for (const k of Object.keys(b)) if (!known.has(k)) issues.push({ field: k, message: `is not a field of an update (${[...UPDATABLE, 'reason', 'autoPreflight'].join(', ')})` });
  if (b['reason'] !== undefined && (typeof b['reason'] !== 'string' || b['reason'].length > 2000)) issues.push({ field: 'reason', message: 'must be a string of at most 2000 characters', value: b['reason'] });
  if (b['owner'] !== undefined && typeof b['owner'] !== 'string') issues.push({ field: 'owner', message: 'must be a team name (a string)', value: b['owner'] });
  if (b['autoPreflight'] !== undefined && typeof b['autoPreflight'] !== 'boolean') issues.push({ field: 'autoPreflight', message: 'must be true or false', value: b['autoPreflight'] });
  const old = current.spec;
  const merged = {
    name: old.name,
    sourceType: old.sourceType,
    config: b['config'] ?? (JSON.parse(old.configJson) as unknown),
    contract: b['contract'] ?? old.contractYaml,
    environment: b['environment'] ?? old.environment,
    owner: b['owner'] ?? old.owner ?? undefined,
    labels: b['labels'] ?? old.labels,
    tenant: current.tenantId,
  };
  const v = validateRegistration(merged, principal);
  issues.push(...v.issues.filter((i) => !issues.some((x) => x.field === i.field)));
  if (issues.length || !v.spec) return { ...none, issues };
  const spec: ConnectorSpec = { ...v.spec, owner: typeof merged.owner === 'string' ? merged.owner : old.owner };
  const changed = [
    ...(spec.configJson !== normalizedConfig(old.configJson) ? ['config'] : []),
    ...(spec.contractYaml !== old.contractYaml ? ['contract'] : []),
    ...(spec.environment !== old.environment ? ['environment'] : []),
    ...(spec.owner !== old.owner ? ['owner'] : []),
    ...(JSON.stringify(sorted(spec.labels)) !== JSON.stringify(sorted(old.labels)) ? ['labels'] : []),
  ];
  let changelog: ContractChangelogInfo | null = null;
  if (changed.includes('contract') && old.contractYaml) {
    try {
      const log = contractChangelog(parseContract(old.contractYaml), parseContract(spec.contractYaml!));
      changelog = { from: log.from, to: log.to, breaking: log.breaking, changes: log.changes.map((c) => ({ path: c.path, kind: c.kind, breaking: c.breaking, detail: c.detail })) };
    } catch {
      // The old contract no longer parses (an older ODCS rule set): nothing to compare it with.
      changelog = null;
    }
  }
  const approvalRequired = (changelog?.breaking ?? false) && PRODUCTION.includes(spec.environment.toLowerCase());
  // The approval hook is the preflight's: a breaking change in production always gets one.
  const autoPreflight = approvalRequired || b['autoPreflight'] !== false;
  return { issues: [], spec, changed, changelog, autoPreflight, approvalRequired, reason: typeof b['reason'] === 'string' ? b['reason'] : null };
}

/** A config as registration stores it: JSON of the parsed object, so key order does not count as a change. */
function normalizedConfig(json: string): string {
  return JSON.stringify(JSON.parse(json));
}

function sorted(o: Record<string, string>): Array<[string, string]> {
  return Object.entries(o).sort(([a], [b]) => a.localeCompare(b));
}

function refuseRetired(c: ConnectorState): void {
  if (c.retired) throw new PreflightError('CONFLICT', `connector ${c.connectorId} was deregistered at ${c.retired.at} by ${c.retired.actor}; a retired connector cannot change`, { retriable: false });
}

const change = open({ path: str, kind: str, breaking: bool, detail: str });
const changelog = { ...open({ from: nullableStr, to: nullableStr, breaking: bool, changes: arrayOf(change) }), nullable: true };
const updated = open({ connectorId: str, eventId: nullableStr, changed: arrayOf(str), changelog, attemptId: nullableStr, approvalRequired: bool, url: str }, ['connectorId', 'changed', 'url']);
const retirement = open({ at: str, eventId: str, actor: str, reason: nullableStr });
const deregistered = open({ connectorId: str, eventId: nullableStr, retired: retirement }, ['connectorId', 'retired']);

/** PATCH and DELETE of a connector: `connector.updated` and `connector.deregistered`. */
export const lifecycleRoutes: FastifyPluginAsync<ApiDeps> = async (app, deps) => {
  app.patch<{ Params: { id: string } }>(
    '/api/connectors/:id',
    {
      onRequest: guard(deps.auth, 'register'),
      schema: {
        tags: ['connectors'],
        params: idParam,
        body: { type: 'object', description: 'Any of config, contract (ODCS v3 YAML), environment, owner, labels; reason; autoPreflight (default true). Validated as a registration.' },
        response: { 200: updated, 202: updated, 409: errorBody, ...ERROR_STATUSES },
        description: 'Updates a connector (config and/or contract). A READY outcome no longer stands: the connector goes back to REGISTERED, or preflights again at once (autoPreflight). A contract change comes back with its changelog, each change classified breaking or not; a breaking change in production needs a security admin\'s approval in that preflight.',
      },
    },
    async (req, reply) => {
      const c = connectorFor(deps, req, req.params.id);
      refuseRetired(c);
      const plan = planUpdate(c, req.body, req.principal!);
      // Secret refs, addresses and paths are checked in the connector's tenant, as at registration.
      if (plan.spec && TENANT_ID.test(c.tenantId)) plan.issues.push(...(await deps.scopes().forTenant(c.tenantId).check(getConnector(plan.spec.sourceType).manifest, JSON.parse(plan.spec.configJson))));
      if (plan.issues.length || !plan.spec) throw new PreflightError('VALIDATION', `invalid update: ${plan.issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`, { issues: plan.issues, retriable: false });
      const url = `/api/connectors/${encodeURIComponent(c.connectorId)}`;
      if (plan.changed.length === 0) return reply.code(200).send({ connectorId: c.connectorId, eventId: null, changed: [], changelog: null, attemptId: null, approvalRequired: false, url });
      const e = newEvent(
        'connector.updated',
        { spec: plan.spec, changed: plan.changed, changelog: plan.changelog, reason: plan.reason, autoPreflight: plan.autoPreflight },
        { producer: PRODUCER, tenantId: c.tenantId, connectorId: c.connectorId, correlationId: crypto.randomUUID(), actor: actorOf(req) },
      );
      await deps.publish(e);
      return reply.code(202).send({ connectorId: c.connectorId, eventId: e.eventId, changed: plan.changed, changelog: plan.changelog, attemptId: plan.autoPreflight ? e.correlationId : null, approvalRequired: plan.approvalRequired, url });
    },
  );

  app.delete<{ Params: { id: string }; Querystring: { reason?: string } }>(
    '/api/connectors/:id',
    {
      onRequest: guard(deps.auth, 'register'),
      schema: {
        tags: ['connectors'],
        params: idParam,
        querystring: { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: 2000, description: 'why, for the audit trail' } } },
        response: { 200: deregistered, 202: deregistered, ...ERROR_STATUSES },
        description: 'Deregisters (retires) a connector: hidden from default lists, still readable by id with its history and receipts, its state record tombstoned; further preflights are refused. 202 with the event; 200 when it was already retired.',
      },
    },
    async (req, reply) => {
      const c = connectorFor(deps, req, req.params.id);
      if (c.retired) return reply.code(200).send({ connectorId: c.connectorId, eventId: null, retired: c.retired });
      const e = newEvent('connector.deregistered', { name: c.name, reason: req.query.reason ?? null }, { producer: PRODUCER, tenantId: c.tenantId, connectorId: c.connectorId, correlationId: crypto.randomUUID(), actor: actorOf(req) });
      await deps.publish(e);
      return reply.code(202).send({ connectorId: c.connectorId, eventId: e.eventId, retired: { at: e.occurredAt, eventId: e.eventId, actor: e.actor, reason: e.reason } });
    },
  );
};
