import { Type } from '@sinclair/typebox';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { defineConfig, SecretRef, type ConfigOf } from './config.js';
import { postgresConfig, type PostgresConfig } from './sources/postgres.js';
import { getConnector } from './registry.js';

const issuesOf = (f: () => unknown): Array<{ field: string; message: string; value?: unknown }> => {
  try {
    f();
  } catch (e) {
    return (e as { issues: Array<{ field: string; message: string }> }).issues;
  }
  return [];
};

describe('one schema per connector config', () => {
  // The same schema with one field changed: `port` becomes a named service string, and the
  // password reference moves under `auth`. The type, the validation, the secret fields and the
  // published schema must all follow, with nothing else edited.
  const modified = defineConfig(
    'postgres',
    Type.Object({ ...postgresConfig.schema.properties, port: Type.String({ minLength: 1, default: 'postgresql' }), secretRef: Type.Optional(Type.String()), auth: Type.Object({ secretRef: SecretRef() }) }),
  );

  it('the TypeScript type comes from the schema', () => {
    expectTypeOf<PostgresConfig['port']>().toEqualTypeOf<number>();
    expectTypeOf<ConfigOf<'postgres', typeof modified.schema>['port']>().toEqualTypeOf<string>();
    expectTypeOf<ConfigOf<'postgres', typeof modified.schema>['auth']>().toEqualTypeOf<{ secretRef: string }>();
  });

  it('validation comes from the schema: every problem at once, naming the field and the value', () => {
    const raw = { type: 'postgres', host: 'db', port: 'postgresql', database: 'erp', user: 'reader', secretRef: 'env:PW' };
    expect(issuesOf(() => postgresConfig.parse(raw))).toEqual([{ field: 'config.port', message: 'must be a port number between 1 and 65535', value: 'postgresql' }]);
    expect(issuesOf(() => modified.parse(raw)).map((i) => i.field)).toEqual(['config.auth']);
    expect(modified.parse({ ...raw, auth: { secretRef: 'file:pg' } })).toMatchObject({ type: 'postgres', port: 'postgresql', auth: { secretRef: 'file:pg' }, schema: 'public', tls: { mode: 'prefer' } });
    expect(issuesOf(() => modified.parse({ ...raw, auth: { secretRef: 'hunter2' } }))).toEqual([{ field: 'config.auth.secretRef', message: 'must be a secret reference like env:NAME or file:path', value: '[REDACTED]' }]);
  });

  it('secret fields and the published (request body) schema come from the schema', () => {
    expect(postgresConfig.secretFields).toEqual(['secretRef']);
    expect(modified.secretFields).toEqual(['auth.secretRef']);
    expect(postgresConfig.input).toMatchObject({ required: ['host', 'database', 'user', 'secretRef'], properties: { port: { type: 'integer', minimum: 1, maximum: 65535, default: 5432 } } });
    expect(modified.input).toMatchObject({ required: ['host', 'database', 'user', 'auth'], properties: { port: { type: 'string', default: 'postgresql' }, auth: { properties: { secretRef: { 'x-secret': true } } } } });
    // The manifest publishes the same object: one definition, not a copy.
    expect(getConnector('postgres').manifest.contract.configSchema).toBe(postgresConfig.input);
    expect(getConnector('postgres').manifest.contract.secretFields).toBe(postgresConfig.secretFields);
  });

  it('fills defaults, drops unknown fields, and never echoes a plaintext secret', () => {
    expect(postgresConfig.parse({ host: 'db', database: 'erp', user: 'r', secretRef: 'env:PW', color: 'blue' })).toEqual({ type: 'postgres', host: 'db', port: 5432, database: 'erp', user: 'r', secretRef: 'env:PW', schema: 'public', tls: { mode: 'prefer' } });
    const issues = issuesOf(() => postgresConfig.parse({ host: '', password: 'hunter2', tls: { mode: 'sometimes' } }));
    expect(issues.map((i) => `${i.field}: ${i.message}`)).toEqual([
      expect.stringMatching(/^config\.password: plaintext secrets are not accepted/),
      'config.host: is required',
      'config.database: is required',
      'config.user: is required',
      'config.secretRef: is required',
      'config.tls.mode: must be one of disable, prefer, require, verify-full',
    ]);
    expect(JSON.stringify(issues)).not.toContain('hunter2');
  });
});
