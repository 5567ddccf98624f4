import { describe, expect, it } from 'vitest';
import { newEvent, sampleEvents } from '@preflight/events';
import type { Principal } from '../auth.js';
import { evolveConnector } from '../state.js';
import { planUpdate } from './lifecycle.js';

const contract = (version: string, extra = ''): string => `apiVersion: v3.1.0
kind: DataContract
id: shop
version: ${version}
status: active
schema:
  - name: orders
    properties:
      - name: id
        logicalType: integer
        required: true
${extra}`;
const spec = { ...sampleEvents()['connector.registered'].spec, sourceType: 'files', configJson: JSON.stringify({ type: 'files', path: '/data/acme/shop' }), contractYaml: contract('1.0.0'), environment: 'production', owner: 'team-shop' };
const current = evolveConnector(undefined, newEvent('connector.registered', { spec, autoPreflight: true }, { producer: 't@1', tenantId: 'acme', connectorId: 'acme.erp-orders', correlationId: 'a1', actor: 'user:x' }));
const erin: Principal = { subject: 'erin', roles: ['tenant_data_engineer'], tenant: 'acme' };

describe('planUpdate: an update validated as a registration', () => {
  it('refuses identity changes, unknown fields and bad values, naming each field', () => {
    const plan = planUpdate(current, { name: 'other', tenant: 'globex', colour: 'red', environment: 'moon', owner: 5, autoPreflight: 'yes' }, erin);
    expect(plan.spec).toBeUndefined();
    expect(plan.issues.map((i) => i.field).sort()).toEqual(['autoPreflight', 'colour', 'environment', 'name', 'owner', 'tenant']);
    expect(planUpdate(current, [], erin).issues).toEqual([expect.objectContaining({ field: 'body' })]);
    expect(planUpdate(current, { contract: 'kind: [' }, erin).issues[0]!.field).toMatch(/^contract/);
  });

  it('says what changed and nothing for an unchanged spec', () => {
    expect(planUpdate(current, { environment: 'production', owner: 'team-shop' }, erin)).toMatchObject({ issues: [], changed: [] });
    expect(planUpdate(current, { environment: 'staging', labels: { a: 'b' }, config: { path: '/data/acme/other' } }, erin)).toMatchObject({ issues: [], changed: ['config', 'environment', 'labels'], changelog: null, autoPreflight: true, approvalRequired: false });
  });

  it('classifies a contract change; a breaking one in production needs approval and always preflights', () => {
    const added = planUpdate(current, { contract: contract('1.1.0', '      - name: note\n        logicalType: string\n'), autoPreflight: false, reason: 'notes' }, erin);
    expect(added).toMatchObject({ changed: ['contract'], changelog: { from: '1.0.0', to: '1.1.0', breaking: false }, approvalRequired: false, autoPreflight: false, reason: 'notes' });
    const required = planUpdate(current, { contract: contract('2.0.0', '      - name: tier\n        logicalType: string\n        required: true\n'), autoPreflight: false }, erin);
    expect(required.changelog?.changes).toContainEqual(expect.objectContaining({ kind: 'FIELD_ADDED', path: 'orders.tier', breaking: true }));
    expect(required).toMatchObject({ approvalRequired: true, autoPreflight: true });
    expect(planUpdate(current, { contract: contract('2.0.0', '      - name: tier\n        logicalType: string\n        required: true\n'), environment: 'staging' }, erin)).toMatchObject({ approvalRequired: false });
  });
});
