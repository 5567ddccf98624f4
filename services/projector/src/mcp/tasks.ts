// MCP Tasks on the platform's own operations. A task id IS an operation id: there is no second
// store to drift from, the task lives as long as the operation (through a projector restart, in
// its snapshot), and everything (status, result, cancel, list) goes through the API with the
// agent's token, so a task is exactly as visible as its operation.
import type { Result, Task } from '@modelcontextprotocol/sdk/types.js';
import type { CreateTaskOptions, TaskStore } from '@modelcontextprotocol/sdk/experimental/tasks/interfaces.js';
import { ApiError, connectorPath, operationPath, type ApiCaller, type Operation } from './api.js';

/** Where a task's owner and its operation are shown, in the task's `_meta`. */
export const OWNER_META = 'dev.preflight/owner';
export const OPERATION_META = 'dev.preflight/operation';

export type PlatformTask = Task & { _meta: Record<string, unknown> };

interface ConnectorView {
  status: string;
  pendingApproval: { policy: string; requiredRole: string; reason: string; attemptId: string } | null;
}

/** The outcome line an agent reads first: READY/FAILED with why and by whom. */
export function outcomeLine(op: Operation): string {
  if (op.status === 'CANCELLED') return `CANCELLED ${op.connectorId}: ${op.error?.message ?? 'cancelled'}`;
  if (op.error) return `FAILED ${op.connectorId}: ${op.error.code}: ${op.error.message}`;
  const r = op.result!;
  return `${r.status} ${op.connectorId}${r.reason ? ` (${r.reason})` : ''}, validated by ${r.validatedBy}.`;
}

/** Task status from the operation (and, while it runs, whether its attempt waits for a person). */
export function taskOf(op: Operation, connector: ConnectorView | undefined): PlatformTask {
  const awaiting = !op.done && connector?.pendingApproval?.attemptId === op.attemptId ? connector.pendingApproval : null;
  let status: Task['status'];
  let statusMessage: string;
  // Once a cancel is asked for, the task stays cancelled whatever the operation ends as (a result
  // that raced the cancel): a task never moves from one terminal status to another.
  if (op.status === 'CANCELLED' || op.cancelRequestedAt) {
    status = 'cancelled';
    statusMessage = op.done ? outcomeLine(op) : `cancel requested at ${op.cancelRequestedAt}; the attempt is ending`;
  } else if (op.status === 'SUCCEEDED') {
    // A FAILED preflight is a finding the task delivers, not a failure of the task.
    status = 'completed';
    statusMessage = outcomeLine(op);
  } else if (op.status === 'FAILED') {
    status = 'failed';
    statusMessage = op.error ? `${op.error.code}: ${op.error.message}` : 'failed';
  } else if (awaiting) {
    status = 'input_required';
    statusMessage = `awaiting approval by a ${awaiting.requiredRole} (policy ${awaiting.policy}): ${awaiting.reason}; decide with decide_approval`;
  } else {
    status = 'working';
    statusMessage = `${op.connectorId}: ${connector?.status ?? op.status}`;
  }
  return {
    taskId: op.id,
    status,
    statusMessage,
    createdAt: op.createdAt,
    lastUpdatedAt: op.updatedAt,
    ttl: op.ttl * 1000,
    pollInterval: op.pollInterval * 1000,
    _meta: {
      [OWNER_META]: op.owner ?? null,
      [OPERATION_META]: { id: op.id, connectorId: op.connectorId, attemptId: op.attemptId, deadline: op.deadline, statusUrl: op.statusUrl, status: op.status },
    },
  };
}

const notFound = (e: unknown): boolean => e instanceof ApiError && e.status === 404;

export class OperationTaskStore implements TaskStore {
  constructor(private readonly api: ApiCaller) {}

  /** Starts a preflight as a task; the same idempotency key answers with the same operation. */
  async start(input: { connector: string; idempotencyKey?: string; timeoutSeconds?: number; reason: string }): Promise<PlatformTask> {
    const op = await this.api.call<Operation>(
      'POST',
      connectorPath(input.connector, '/preflight'),
      { reason: input.reason, ...(input.timeoutSeconds !== undefined ? { timeoutSeconds: input.timeoutSeconds } : {}) },
      input.idempotencyKey ? { 'idempotency-key': input.idempotencyKey } : {},
    );
    return this.taskFor(op);
  }

  private async taskFor(op: Operation): Promise<PlatformTask> {
    const connector = op.done ? undefined : await this.api.call<ConnectorView>('GET', connectorPath(op.connectorId)).catch(() => undefined);
    return taskOf(op, connector);
  }

  async operation(taskId: string): Promise<Operation | null> {
    try {
      return await this.api.call<Operation>('GET', operationPath(taskId));
    } catch (e) {
      if (notFound(e)) return null;
      throw e;
    }
  }

  createTask(_params: CreateTaskOptions): Promise<Task> {
    return Promise.reject(new Error('tasks are created by tools/call on start_preflight'));
  }

  async getTask(taskId: string): Promise<Task | null> {
    const op = await this.operation(taskId);
    return op ? this.taskFor(op) : null;
  }

  /** The tool result of a finished task: the outcome and the receipt as evidence. */
  async getTaskResult(taskId: string): Promise<Result> {
    const op = await this.operation(taskId);
    if (!op) throw new Error(`task ${taskId} not found (or expired)`);
    return this.resultOf(op);
  }

  async resultOf(op: Operation): Promise<Result> {
    const structuredContent = op as unknown as Record<string, unknown>;
    if (!op.result || op.status === 'CANCELLED' || op.status === 'FAILED') {
      return { content: [{ type: 'text', text: outcomeLine(op) }], structuredContent, isError: true };
    }
    const receipt = await this.api.text(connectorPath(op.connectorId, '/receipt'), 'application/yaml').catch((e: unknown) => `# receipt not readable: ${(e as Error).message}\n`);
    return {
      content: [
        { type: 'text', text: `${outcomeLine(op)}\n\nReceipt:\n${receipt}` },
        { type: 'text', text: JSON.stringify(op, null, 2) },
      ],
      structuredContent,
      isError: false,
    };
  }

  storeTaskResult(): Promise<void> {
    return Promise.reject(new Error("a task's result is its operation's outcome; it is not stored separately"));
  }

  /** Only cancelling is a status change a requestor may ask for; the rest follows the operation. */
  async updateTaskStatus(taskId: string, status: Task['status']): Promise<void> {
    if (status !== 'cancelled') throw new Error(`task status follows its operation; only cancelling can be asked for (got ${status})`);
    await this.api.call('POST', `${operationPath(taskId)}/cancel`, { reason: 'cancelled by an agent (MCP tasks/cancel)' });
  }

  async listTasks(cursor?: string): Promise<{ tasks: Task[]; nextCursor?: string }> {
    if (cursor !== undefined && !/^[0-9]+$/.test(cursor)) throw new Error(`invalid cursor ${JSON.stringify(cursor)}`);
    const page = await this.api.call<{ operations: Operation[]; nextCursor: string | null }>('GET', `/api/operations?limit=50${cursor ? `&cursor=${cursor}` : ''}`);
    const connectors = new Map<string, Promise<ConnectorView | undefined>>();
    const tasks = await Promise.all(
      page.operations.map(async (op) => {
        if (op.done) return taskOf(op, undefined);
        if (!connectors.has(op.connectorId)) connectors.set(op.connectorId, this.api.call<ConnectorView>('GET', connectorPath(op.connectorId)).catch(() => undefined));
        return taskOf(op, await connectors.get(op.connectorId));
      }),
    );
    return { tasks, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  }
}
