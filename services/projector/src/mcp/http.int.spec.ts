import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateTaskResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { createBus } from '@preflight/bus';
import { freePort } from '@preflight/local-infra';
import { eventually, testBusConfig, testLogger } from '@preflight/testkit';
import { signDevToken } from '@preflight/auth';
import { startProjectorService, type ProjectorService } from '../service.js';

const SECRET = 'mcp-restart-secret';
const contract = readFileSync(new URL('../../../../examples/demo/contracts/customers.odcs.yaml', import.meta.url), 'utf8');

async function agent(url: string, token: string): Promise<Client> {
  const client = new Client({ name: 'restart-test', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

describe('MCP tasks on a real broker', () => {
  it('a task is its operation: after a projector restart the same id answers with the same owner, and the same idempotencyKey still finds it', async () => {
    const bus = createBus(testBusConfig(), testLogger());
    await bus.ensureTopics(1);
    const start = async (): Promise<ProjectorService> => startProjectorService({ bus, logger: testLogger(), http: { port: await freePort() }, auth: { mode: 'hs256', secret: SECRET }, snapshotEveryMs: 200 });
    const token = await signDevToken({ roles: ['tenant_data_engineer'], tenant: 'acme', sub: 'restart-agent' }, SECRET);
    let projector = await start();
    // No pipeline runs here: the preflight stays in flight, which is what a restart must keep.
    const reg = await fetch(`${projector.url}/api/connectors`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'crm', sourceType: 'files', config: { path: 'exports' }, contract, owner: 'team-crm', autoPreflight: false }),
    });
    expect(reg.status).toBe(201);
    const first = await agent(projector.url, token);
    await eventually('registration folded', async () => !(await first.callTool({ name: 'get_connector', arguments: { connector: 'acme.crm' } })).isError);
    const created = await first.request({ method: 'tools/call', params: { name: 'start_preflight', arguments: { connector: 'acme.crm', idempotencyKey: 'restart-1' }, task: {} } }, CreateTaskResultSchema);
    const before = await first.experimental.tasks.getTask(created.task.taskId);
    expect(before).toMatchObject({ status: 'working', _meta: { 'dev.preflight/owner': { principal: 'restart-agent', team: 'team-crm' } } });
    await first.close();
    await projector.stop();

    projector = await start();
    expect(projector.runner.restoredFromSnapshot).toBe(true);
    const second = await agent(projector.url, token);
    const after = await second.experimental.tasks.getTask(created.task.taskId);
    expect(after).toMatchObject({ taskId: created.task.taskId, status: 'working', createdAt: before.createdAt, ttl: before.ttl, _meta: { 'dev.preflight/owner': { principal: 'restart-agent', team: 'team-crm' } } });
    const again = await second.request({ method: 'tools/call', params: { name: 'start_preflight', arguments: { connector: 'acme.crm', idempotencyKey: 'restart-1' }, task: {} } }, CreateTaskResultSchema);
    expect(again.task.taskId).toBe(created.task.taskId);
    expect((await second.experimental.tasks.cancelTask(created.task.taskId)).status).toBe('cancelled');
    await second.close();
    await projector.stop();
    await bus.stop();
  });
});
