import { randomUUID } from 'node:crypto';
import { METRIC } from '@preflight/core';
import type { ConnectorEvent } from '@preflight/events';
import { CONNECTOR_STATES, evolveConnector, type AlertView, type ConnectorState, type IncidentView } from './state.js';

export interface Counters {
  handshakeCompleted: number;
  handshakeFailed: number;
  schemaPass: number;
  schemaFail: number;
  auditPass: number;
  auditFail: number;
  ready: number;
  failed: number;
  incidents: number;
  alerts: number;
}

const zero = (): Counters => ({ handshakeCompleted: 0, handshakeFailed: 0, schemaPass: 0, schemaFail: 0, auditPass: 0, auditFail: 0, ready: 0, failed: 0, incidents: 0, alerts: 0 });

export type OperationStatus = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
/** Who answers for an operation: the principal who started it and the connector's owning team. */
export interface OperationOwner {
  principal: string;
  team: string | null;
}
export interface Operation {
  id: string;
  connectorId: string;
  tenantId: string;
  attemptId: string;
  status: OperationStatus;
  done: boolean;
  createdAt: string;
  updatedAt: string;
  /** When the preflight must have finished, else the operation ends FAILED/TIMEOUT. */
  deadline: string;
  /** How long the operation record is kept after it is done. */
  ttlSeconds: number;
  idempotencyKey: string | null;
  result: { status: 'READY' | 'FAILED'; reason: string | null; validatedBy: string; receiptUrl: string } | null;
  error: { code: string; message: string } | null;
  /** Absent on operations snapshotted before owners were recorded. */
  owner?: OperationOwner | null;
  /** When a cancel was asked for; the outcome (CANCELLED, or what came first) follows from readiness. */
  cancelRequestedAt?: string | null;
}

/** `user:alice` -> `alice`: the principal an event's actor names. */
const principalOf = (actor: string): string => actor.replace(/^user:/, '');

export interface SemanticMetrics {
  [METRIC.handshake_success_rate]: number | null;
  [METRIC.schema_validation_pass_rate]: number | null;
  [METRIC.credential_audit_pass_rate]: number | null;
  [METRIC.preflight_ready_rate]: number | null;
  [METRIC.preflight_duration_ms]: { p50: number | null; p95: number | null; p99: number | null; count: number };
  [METRIC.connectors_by_state]: Record<string, number>;
  counts: Counters;
}

const DURATION_WINDOW = 5_000;
const SERIES_MINUTES = 180;
const SEEN_LIMIT = 200_000;

/** The offset after `offset`, in plain numbers while they are exact (always, in practice), else BigInt. */
export function nextOffset(offset: string): string {
  const n = Number(offset);
  return Number.isSafeInteger(n + 1) ? String(n + 1) : (BigInt(offset) + 1n).toString();
}

const rate = (ok: number, bad: number): number | null => (ok + bad === 0 ? null : Math.round((ok / (ok + bad)) * 10_000) / 10_000);

function pct(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]! * 100) / 100;
}

function count(c: Counters, e: ConnectorEvent): void {
  switch (e.eventType) {
    case 'connector.handshake':
      if (e.status === 'COMPLETED') c.handshakeCompleted++;
      else c.handshakeFailed++;
      break;
    case 'connector.schema.checked':
      if (e.status === 'PASS') c.schemaPass++;
      else c.schemaFail++;
      break;
    case 'connector.credentials.audited':
      if (e.status === 'PASS') c.auditPass++;
      else c.auditFail++;
      break;
    case 'connector.validated':
      if (e.status === 'READY') c.ready++;
      else c.failed++;
      break;
    case 'connector.incident.opened':
      c.incidents++;
      break;
    case 'connector.alert.raised':
      c.alerts++;
      break;
    default:
  }
}

/** Per owning team: how its operations (MCP tasks) started and ended. Monotonic, unlike `operations`. */
export interface TaskCounts {
  started: number;
  completed: { READY: number; FAILED: number };
  failed: Record<string, number>;
  timedOut: number;
  cancelled: number;
}
const noTasks = (): TaskCounts => ({ started: 0, completed: { READY: 0, FAILED: 0 }, failed: {}, timedOut: 0, cancelled: 0 });
const TASK_DURATION_WINDOW = 5_000;
/** The label for operations whose connector names no owner. */
export const UNOWNED = 'unowned';

export interface ProjectionSnapshot {
  version: 1;
  connectors: ConnectorState[];
  overall: Counters;
  byTenant: Record<string, Counters>;
  durations: Array<[string, number]>;
  series: Array<[string, Counters]>;
  operations: Operation[];
  offsets: Record<string, string>;
  /** Absent in snapshots written before task metrics. */
  tasks?: { byTeam: Record<string, TaskCounts>; durations: Array<[string, number]> };
}

/**
 * Everything the read side knows, folded from events. `apply` is the only writer; it is
 * deterministic in the events it is given (and their order per connector), so a rebuild from the
 * log yields the same state.
 */
export class Projection {
  readonly connectors = new Map<string, ConnectorState>();
  overall = zero();
  readonly byTenant = new Map<string, Counters>();
  /** Recent preflight durations with their tenant, oldest first. */
  durations: Array<[string, number]> = [];
  readonly series = new Map<string, Counters>();
  readonly operations = new Map<string, Operation>();
  private readonly opByAttempt = new Map<string, string>();

  /** `operationTimeoutMs` bounds the operations the fold creates from request events (the API's come with their own). */
  constructor(private readonly operationTimeoutMs = DEFAULT_OPERATION_TIMEOUT_MS) {}
  private readonly opByKey = new Map<string, string>();
  private readonly seen = new Set<string>();
  readonly tasksByTeam = new Map<string, TaskCounts>();
  /** Recent operation durations (ms) with their team, oldest first. */
  taskDurations: Array<[string, number]> = [];
  /** Next offset to apply per `topic:partition`. */
  offsets: Record<string, string> = {};
  applied = 0;

  /** Applies one event once (by eventId); returns false for a duplicate. */
  apply(e: ConnectorEvent, at?: { topic: string; partition: number; offset: string }): boolean {
    if (at) this.offsets[`${at.topic}:${at.partition}`] = nextOffset(at.offset);
    if (this.seen.has(e.eventId)) return false;
    this.seen.add(e.eventId);
    if (this.seen.size > SEEN_LIMIT) this.seen.delete(this.seen.values().next().value!);
    this.applied++;
    this.connectors.set(e.connectorId, evolveConnector(this.connectors.get(e.connectorId), e));
    count(this.overall, e);
    const t = this.byTenant.get(e.tenantId) ?? zero();
    count(t, e);
    this.byTenant.set(e.tenantId, t);
    const minute = e.occurredAt.slice(0, 16);
    const bucket = this.series.get(minute) ?? zero();
    count(bucket, e);
    this.series.set(minute, bucket);
    if (this.series.size > SERIES_MINUTES) {
      const oldest = [...this.series.keys()].sort()[0]!;
      this.series.delete(oldest);
    }
    if (e.eventType === 'connector.validated') {
      this.durations.push([e.tenantId, e.durationMs]);
      // One out for one in: copying the whole window on every outcome made a full window O(n) per event.
      if (this.durations.length > DURATION_WINDOW) this.durations.shift();
    }
    this.foldOperation(e);
    return true;
  }

  /**
   * An operation's state is derived from the facts of its attempt, so it does not depend on the
   * order the topics are folded in: the request (which names the operation) and the attempt's
   * outcome, whichever comes first. The outcome is read from the connector's attempt log, which
   * `apply` has already updated for this event.
   */
  private foldOperation(e: ConnectorEvent): void {
    if (e.eventType === 'connector.handshake.requested' && e.operationId) {
      const existing = this.operations.get(e.operationId);
      if (existing) {
        if (existing.status === 'PENDING') this.operations.set(existing.id, { ...existing, status: 'RUNNING', updatedAt: e.occurredAt });
      } else {
        // Rebuilt from the log: the request event is the operation's record of creation.
        this.operations.set(e.operationId, {
          id: e.operationId,
          connectorId: e.connectorId,
          tenantId: e.tenantId,
          attemptId: e.correlationId,
          status: 'RUNNING',
          done: false,
          createdAt: e.occurredAt,
          updatedAt: e.occurredAt,
          deadline: new Date(Date.parse(e.occurredAt) + this.operationTimeoutMs).toISOString(),
          ttlSeconds: DEFAULT_TTL_S,
          idempotencyKey: e.idempotencyKey.startsWith('http:') ? e.idempotencyKey : null,
          result: null,
          error: null,
          owner: { principal: principalOf(e.actor), team: e.spec.owner },
          cancelRequestedAt: null,
        });
        if (e.idempotencyKey.startsWith('http:')) this.opByKey.set(e.idempotencyKey, e.operationId);
        this.countTask(e.spec.owner, (c) => c.started++);
      }
      this.opByAttempt.set(e.correlationId, e.operationId);
    }
    if (e.eventType === 'connector.cancel.requested') {
      const id = e.operationId ?? this.opByAttempt.get(e.correlationId);
      const op = id ? this.operations.get(id) : undefined;
      if (op && !op.cancelRequestedAt) this.operations.set(op.id, { ...op, cancelRequestedAt: e.occurredAt, updatedAt: e.occurredAt > op.updatedAt ? e.occurredAt : op.updatedAt });
    }
    if (e.eventType !== 'connector.handshake.requested' && e.eventType !== 'connector.validated') return;
    const id = this.opByAttempt.get(e.correlationId);
    const op = id ? this.operations.get(id) : undefined;
    const outcome = this.connectors.get(e.connectorId)?.attemptLog.find((a) => a.attemptId === e.correlationId)?.outcome;
    // An outcome settles the operation, also one the clock had already given up on (TIMEOUT):
    // a rebuild from the log, which has the outcome, must end in the same place.
    if (op && outcome && op.status !== 'SUCCEEDED' && op.status !== 'CANCELLED') {
      // A cancelled attempt is the operation's end, not a finding about the source.
      const cancelled = outcome.status === 'FAILED' && outcome.reason === 'CANCELLED';
      if (!op.done) this.countTask(op.owner?.team, (c) => (cancelled ? c.cancelled++ : c.completed[outcome.status]++), Date.parse(outcome.validatedAt) - Date.parse(op.createdAt));
      this.operations.set(op.id, {
        ...op,
        status: cancelled ? 'CANCELLED' : 'SUCCEEDED',
        done: true,
        updatedAt: outcome.validatedAt,
        result: { status: outcome.status, reason: outcome.reason, validatedBy: outcome.validatedBy, receiptUrl: `/api/connectors/${encodeURIComponent(e.connectorId)}/receipt` },
        error: cancelled ? { code: 'CANCELLED', message: `cancelled by ${outcome.validatedBy.replace(/ \(cancelled\)$/, '')}` } : null,
      });
    }
  }

  /** Registers an operation before its request event is published (the API's 202). */
  createOperation(input: { connectorId: string; tenantId: string; idempotencyKey: string | null; timeoutMs: number; owner?: OperationOwner; now: Date }): { op: Operation; created: boolean } {
    const key = input.idempotencyKey ? `http:${input.tenantId}:${input.idempotencyKey}` : null;
    const existingId = key ? this.opByKey.get(key) : undefined;
    const existing = existingId ? this.operations.get(existingId) : undefined;
    if (existing) return { op: existing, created: false };
    const now = input.now;
    const op: Operation = {
      id: randomUUID(),
      connectorId: input.connectorId,
      tenantId: input.tenantId,
      attemptId: randomUUID(),
      status: 'PENDING',
      done: false,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      deadline: new Date(now.getTime() + input.timeoutMs).toISOString(),
      ttlSeconds: DEFAULT_TTL_S,
      idempotencyKey: key,
      result: null,
      error: null,
      owner: input.owner ?? null,
      cancelRequestedAt: null,
    };
    this.operations.set(op.id, op);
    this.opByAttempt.set(op.attemptId, op.id);
    if (key) this.opByKey.set(key, op.id);
    this.countTask(op.owner?.team, (c) => c.started++);
    return { op, created: true };
  }

  /**
   * Undoes `createOperation` for an operation whose request could not be published: kept, a retry
   * with the same idempotency key would find it and publish nothing, and the attempt would never
   * start (seen in chaos: a POST during a broker kill, retried, left its operation waiting for good).
   */
  forgetOperation(opId: string): void {
    const op = this.operations.get(opId);
    if (!op || op.status !== 'PENDING') return;
    this.operations.delete(opId);
    this.opByAttempt.delete(op.attemptId);
    if (op.idempotencyKey && this.opByKey.get(op.idempotencyKey) === opId) this.opByKey.delete(op.idempotencyKey);
    this.countTask(op.owner?.team, (c) => c.started--);
  }

  private countTask(team: string | null | undefined, bump: (c: TaskCounts) => void, durationMs?: number): void {
    const key = team ?? UNOWNED;
    const c = this.tasksByTeam.get(key) ?? noTasks();
    bump(c);
    this.tasksByTeam.set(key, c);
    if (durationMs !== undefined) {
      this.taskDurations.push([key, Math.max(0, durationMs)]);
      if (this.taskDurations.length > TASK_DURATION_WINDOW) this.taskDurations.shift();
    }
  }

  /** Task metrics as the catalogue names them, per team, with duration quantiles over all teams. */
  taskMetrics(): { byTeam: Record<string, TaskCounts>; [METRIC.task_duration_ms]: { p50: number | null; p95: number | null; p99: number | null; count: number } } {
    const d = this.taskDurations.map(([, ms]) => ms).sort((a, b) => a - b);
    return { byTeam: Object.fromEntries(this.tasksByTeam), [METRIC.task_duration_ms]: { p50: pct(d, 50), p95: pct(d, 95), p99: pct(d, 99), count: d.length } };
  }

  /** Marks a cancel as asked for before its event is folded back (the API's 202); the fold keeps the first. */
  requestCancel(id: string, now: Date): Operation | undefined {
    const op = this.operations.get(id);
    if (!op || op.done) return op;
    const next = { ...op, cancelRequestedAt: op.cancelRequestedAt ?? now.toISOString(), updatedAt: now.toISOString() };
    this.operations.set(id, next);
    return next;
  }

  /** Ends overdue operations as FAILED/TIMEOUT and forgets done ones past their TTL. */
  expireOperations(now: Date): void {
    for (const op of this.operations.values()) {
      if (!op.done && Date.parse(op.deadline) <= now.getTime()) {
        this.countTask(
          op.owner?.team,
          (c) => {
            c.timedOut++;
            c.failed['TIMEOUT'] = (c.failed['TIMEOUT'] ?? 0) + 1;
          },
          now.getTime() - Date.parse(op.createdAt),
        );
        this.operations.set(op.id, { ...op, status: 'FAILED', done: true, updatedAt: now.toISOString(), error: { code: 'TIMEOUT', message: `the preflight did not finish before ${op.deadline}` } });
      } else if (op.done && Date.parse(op.updatedAt) + op.ttlSeconds * 1000 < now.getTime()) {
        this.operations.delete(op.id);
        this.opByAttempt.delete(op.attemptId);
        if (op.idempotencyKey) this.opByKey.delete(op.idempotencyKey);
      }
    }
  }

  metrics(tenant?: string): SemanticMetrics {
    const c = tenant ? (this.byTenant.get(tenant) ?? zero()) : this.overall;
    const d = (tenant ? this.durations.filter(([t]) => t === tenant) : this.durations).map(([, ms]) => ms).sort((a, b) => a - b);
    const byState = Object.fromEntries(CONNECTOR_STATES.map((s) => [s, 0]));
    for (const x of this.connectors.values()) if (!tenant || x.tenantId === tenant) byState[x.status] = (byState[x.status] ?? 0) + 1;
    return {
      [METRIC.handshake_success_rate]: rate(c.handshakeCompleted, c.handshakeFailed),
      [METRIC.schema_validation_pass_rate]: rate(c.schemaPass, c.schemaFail),
      [METRIC.credential_audit_pass_rate]: rate(c.auditPass, c.auditFail),
      [METRIC.preflight_ready_rate]: rate(c.ready, c.failed),
      [METRIC.preflight_duration_ms]: { p50: pct(d, 50), p95: pct(d, 95), p99: pct(d, 99), count: d.length },
      [METRIC.connectors_by_state]: byState,
      counts: { ...c },
    };
  }

  incidents(status: 'open' | 'resolved' | 'all' = 'open'): IncidentView[] {
    // Incidents from a snapshot written before the resolved event have no status: their list says it.
    const open = (c: ConnectorState): IncidentView[] => c.openIncidents.map((i) => (i.status ? i : { ...i, status: 'open' }));
    const resolved = (c: ConnectorState): IncidentView[] => (c.resolvedIncidents ?? []).map((i) => (i.status ? i : { ...i, status: 'resolved' }));
    const pick = (c: ConnectorState): IncidentView[] => (status === 'open' ? open(c) : status === 'resolved' ? resolved(c) : [...open(c), ...resolved(c)]);
    return [...this.connectors.values()].flatMap(pick).sort((a, b) => b.openedAt.localeCompare(a.openedAt));
  }

  alerts(): AlertView[] {
    return [...this.connectors.values()].flatMap((c) => c.alerts).sort((a, b) => b.raisedAt.localeCompare(a.raisedAt));
  }

  toSnapshot(): ProjectionSnapshot {
    return {
      version: 1,
      connectors: [...this.connectors.values()],
      overall: this.overall,
      byTenant: Object.fromEntries(this.byTenant),
      durations: this.durations,
      series: [...this.series],
      operations: [...this.operations.values()],
      offsets: { ...this.offsets },
      tasks: { byTeam: Object.fromEntries(this.tasksByTeam), durations: this.taskDurations },
    };
  }

  static fromSnapshot(s: ProjectionSnapshot, operationTimeoutMs = DEFAULT_OPERATION_TIMEOUT_MS): Projection {
    const p = new Projection(operationTimeoutMs);
    for (const c of s.connectors) {
      p.connectors.set(c.connectorId, c);
      for (const h of c.history) p.seen.add(h.eventId);
    }
    p.overall = s.overall;
    for (const [t, c] of Object.entries(s.byTenant)) p.byTenant.set(t, c);
    p.durations = s.durations;
    for (const [m, c] of s.series) p.series.set(m, c);
    for (const op of s.operations) {
      p.operations.set(op.id, op);
      p.opByAttempt.set(op.attemptId, op.id);
      if (op.idempotencyKey) p.opByKey.set(op.idempotencyKey, op.id);
    }
    p.offsets = { ...s.offsets };
    for (const [team, c] of Object.entries(s.tasks?.byTeam ?? {})) p.tasksByTeam.set(team, c);
    p.taskDurations = s.tasks?.durations ?? [];
    return p;
  }

  /** The comparable content (what a person or an API client sees), for rebuild checks. */
  view(): unknown {
    return {
      connectors: [...this.connectors.values()].sort((a, b) => a.connectorId.localeCompare(b.connectorId)),
      metrics: this.metrics(),
      incidents: this.incidents(),
      alerts: this.alerts(),
    };
  }
}

export const DEFAULT_OPERATION_TIMEOUT_MS = 120_000;
export const DEFAULT_TTL_S = 24 * 60 * 60;
