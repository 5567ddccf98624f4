import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { METRIC, PreflightError } from '@preflight/core';
import { Type } from '@sinclair/typebox';
import { defineConfig, OneOf, SecretRef, Text, type ConfigOf } from '../config.js';
import { networkError, RETRIABLE_SOURCE_CODES } from '../errors.js';
import type { AccessFacts, ConnectorManifest, ConnectorModule, DiscoveredDataset, LogicalType, OperationContext } from '../facade.js';
import { runOperation } from '../operation.js';

export const restConfig = defineConfig(
  'rest',
  Type.Object({
    baseUrl: Text({ description: 'http(s) URL of the API, without credentials' }),
    auth: Type.Object({ kind: OneOf(['bearer', 'basic'] as const), username: Type.Optional(Type.String({ description: 'required for basic auth' })), secretRef: SecretRef() }),
    healthPath: Type.String({ default: '/health' }),
    openApiPath: Type.String({ default: '/openapi.json' }),
    tokenInfoPath: Type.Optional(Type.String()),
    pageSize: Type.Integer({ minimum: 1, default: 100 }),
  }),
  // What JSON Schema (as OpenAPI 3.0 reads it) cannot say: the URL's scheme, no credentials in it,
  // a username exactly when the auth is basic.
  (cfg, issues) => {
    if (typeof cfg.baseUrl === 'string' && cfg.baseUrl) {
      try {
        const u = new URL(cfg.baseUrl);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') issues.push({ field: 'config.baseUrl', message: 'must be an http(s) URL', value: cfg.baseUrl });
        if (u.username || u.password) issues.push({ field: 'config.baseUrl', message: 'must not carry credentials; use auth.secretRef', value: '[REDACTED]' });
      } catch {
        issues.push({ field: 'config.baseUrl', message: 'is not a URL', value: cfg.baseUrl });
      }
    }
    if ((cfg.auth as Partial<RestConfig['auth']> | undefined)?.kind === 'basic' && !cfg.auth.username) issues.push({ field: 'config.auth.username', message: 'is required' });
    return typeof cfg.baseUrl === 'string' ? { ...cfg, baseUrl: cfg.baseUrl.replace(/\/$/, '') } : cfg;
  },
);
export type RestConfig = ConfigOf<'rest', typeof restConfig.schema>;

export const restManifest: ConnectorManifest = {
  type: 'rest',
  displayName: 'REST / HTTP JSON API',
  version: '1.0.0',
  class: 'data-movement',
  contract: {
    configSchema: restConfig.input,
    secretFields: restConfig.secretFields,
    endpoints: [{ url: 'baseUrl' }],
    paths: [],
  },
  retry: { retriableCodes: RETRIABLE_SOURCE_CODES, attempts: 3, initialBackoffMs: 200, maxBackoffMs: 2_000 },
  timeouts: { handshake: 10_000, discover: 20_000, sample: 30_000, pushdown: 30_000, auditAccess: 20_000 },
  idempotency: { description: 'base URL and principal', key: (c) => { const x = c as RestConfig; return `${x.baseUrl}#${x.auth.username ?? x.auth.kind}`; } },
  approvalHook: { name: 'pii-in-production', description: 'READY needs a security_admin approval when the contract has PII and the connector targets production' },
  audit: { fields: ['baseUrl', 'auth.kind', 'auth.username', 'healthPath'], redacted: ['auth.secretRef'] },
  observability: { spans: ['connector.rest.handshake', 'connector.rest.discover', 'connector.rest.sample', 'connector.rest.auditAccess'], metrics: [METRIC.handshake_duration_ms, METRIC.schema_check_duration_ms, METRIC.credential_audit_duration_ms] },
  rollback: 'Read-only: only GET requests are sent. Revoke the token at the API provider and delete the secret.',
};

/** Responses larger than this are cut off: a preflight reads health, an OpenAPI document and samples. */
const MAX_BODY = 16 * 1024 * 1024;
const MAX_REDIRECTS = 3;

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/**
 * One GET to an address the tenant scope checked. The socket goes to the checked address (the
 * lookup is pinned), while the URL keeps the host name for the Host header, SNI and certificate
 * checks. Redirects are followed only within the same origin: a redirect elsewhere would carry
 * the credential to a host nobody checked.
 */
async function get(url: URL, address: { address: string; family: 4 | 6 }, headers: Record<string, string>, signal: AbortSignal): Promise<RawResponse> {
  const lookup: LookupFunction = (_host, opts, cb) => {
    if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [address]);
    else cb(null, address.address, address.family);
  };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<RawResponse>((resolve, reject) => {
    const req = send(url, { method: 'GET', headers, lookup, signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) res.destroy(new PreflightError('SOURCE', `GET ${url.pathname}: the response is larger than ${MAX_BODY} bytes`, { retriable: false }));
        else chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function call(cfg: RestConfig, ctx: OperationContext, signal: AbortSignal, path: string): Promise<{ status: number; body: unknown; headers: Headers; ms: number }> {
  const base = new URL(cfg.baseUrl);
  const port = base.port ? Number(base.port) : base.protocol === 'https:' ? 443 : 80;
  const target = await ctx.scope.address('config.baseUrl', base.hostname, port);
  const secret = await ctx.scope.secret('config.auth.secretRef', cfg.auth.secretRef, signal);
  const auth = cfg.auth.kind === 'bearer' ? `Bearer ${secret.value}` : `Basic ${Buffer.from(`${cfg.auth.username ?? ''}:${secret.value}`).toString('base64')}`;
  let url = new URL(`${cfg.baseUrl}${path}`);
  const t0 = performance.now();
  let raw: RawResponse;
  for (let hops = 0; ; hops++) {
    try {
      raw = await get(url, target, { authorization: auth, accept: 'application/json' }, signal);
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      if (e instanceof PreflightError) throw e;
      throw networkError(e, `GET ${url.href}`, [secret.value]) ?? new PreflightError('CONNECTIVITY', `GET ${url.href}: ${(e as Error).message}`, { cause: e, retriable: true });
    }
    const location = raw.status >= 300 && raw.status < 400 ? raw.headers.location : undefined;
    if (!location) break;
    const next = new URL(location, url);
    if (next.origin !== base.origin) {
      throw new PreflightError('CONFIG', `config.baseUrl: GET ${url.pathname} redirects to another origin (${next.origin}); not followed, because the credential would go to a host the egress policy never checked`, { retriable: false, details: { rule: 'egress', field: 'config.baseUrl' } });
    }
    if (hops >= MAX_REDIRECTS) throw new PreflightError('SOURCE', `GET ${path}: more than ${MAX_REDIRECTS} redirects`, { retriable: false });
    url = next;
  }
  const ms = performance.now() - t0;
  const res = { status: raw.status, headers: new Headers(Object.entries(raw.headers).flatMap(([k, v]) => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((x): [string, string] => [k, x])))) };
  const text = raw.text;
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON; callers that need JSON say so */
  }
  if (res.status === 401) throw unauthorized(res.headers.get('www-authenticate'), `GET ${url.href}`, cfg, secret.value);
  if (res.status === 403) throw new PreflightError('PERMISSION', `GET ${url.href}: 403 Forbidden; the credential lacks read access to ${path}`, { retriable: false, details: { path } });
  if (res.status === 429 || res.status >= 500) throw new PreflightError('CONNECTIVITY', `GET ${url.href}: HTTP ${res.status}`, { retriable: true });
  return { status: res.status, body, headers: res.headers, ms };
}

/**
 * A 401 says why in its WWW-Authenticate challenge (RFC 6750 §3): an expired or revoked token is
 * `error="invalid_token"`, which a person fixes by renewing the token, not by checking the URL.
 */
function unauthorized(challenge: string | null, what: string, cfg: RestConfig, secret: string): PreflightError {
  const param = (name: string): string | undefined => challenge?.match(new RegExp(`${name}="([^"]*)"`, 'i'))?.[1]?.split(secret).join('[REDACTED]').slice(0, 200);
  const error = param('error');
  const description = param('error_description');
  const expired = error === 'invalid_token' && /expir/i.test(description ?? '');
  const why = error ? `: ${error}${description ? ` (${description})` : ''}` : '';
  const fix = expired ? `renew the token behind ${cfg.auth.secretRef}` : `check the ${cfg.auth.kind} credential behind ${cfg.auth.secretRef}`;
  return new PreflightError('AUTH', `${what}: 401 Unauthorized${why}; ${fix}`, {
    retriable: false,
    details: { ...(error ? { authError: error } : {}), ...(expired ? { tokenExpired: true } : {}) },
  });
}

type JsonSchema = { type?: string | string[]; format?: string; properties?: Record<string, JsonSchema>; required?: string[]; items?: JsonSchema; $ref?: string; nullable?: boolean; 'x-primary-key'?: string[] };

function logical(s: JsonSchema): LogicalType {
  const t = Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type;
  if (t === 'integer') return 'integer';
  if (t === 'number') return 'number';
  if (t === 'boolean') return 'boolean';
  if (t === 'string') return s.format === 'date' ? 'date' : s.format === 'date-time' ? 'timestamp' : s.format === 'byte' || s.format === 'binary' ? 'binary' : 'string';
  if (t === 'object') return 'object';
  if (t === 'array') return 'array';
  return 'unknown';
}

/** Datasets from an OpenAPI 3 document: every GET path whose 200 response is a list of objects. */
export function datasetsFromOpenApi(doc: unknown): DiscoveredDataset[] {
  const d = doc as { paths?: Record<string, { get?: { responses?: Record<string, { content?: Record<string, { schema?: JsonSchema }> }> } }>; components?: { schemas?: Record<string, JsonSchema> } };
  const resolve = (s: JsonSchema | undefined): JsonSchema | undefined => {
    if (!s?.$ref) return s;
    const name = s.$ref.split('/').pop()!;
    return d.components?.schemas?.[name];
  };
  const out: DiscoveredDataset[] = [];
  for (const [path, item] of Object.entries(d.paths ?? {})) {
    if (path.includes('{')) continue;
    let schema = resolve(item.get?.responses?.['200']?.content?.['application/json']?.schema);
    if (schema?.type === 'object') schema = resolve(schema.properties?.['data'] ?? schema.properties?.['items']);
    if (schema?.type !== 'array') continue;
    const row = resolve(schema.items);
    if (!row?.properties) continue;
    const required = new Set(row.required ?? []);
    const pk = row['x-primary-key'] ?? (row.properties['id'] ? ['id'] : []);
    out.push({
      name: path.replace(/^\//, ''),
      kind: 'endpoint',
      primaryKey: pk,
      fields: Object.entries(row.properties).map(([name, p]) => {
        const prop = resolve(p) ?? {};
        const nullable = !required.has(name) || prop.nullable === true || (Array.isArray(prop.type) && prop.type.includes('null'));
        return { name, logicalType: logical(prop), physicalType: [prop.type, prop.format].filter(Boolean).join(':') || 'any', nullable, primaryKey: pk.includes(name) };
      }),
    });
  }
  return out;
}

const rowsOf = (body: unknown): Array<Record<string, unknown>> => {
  if (Array.isArray(body)) return body as Array<Record<string, unknown>>;
  const b = body as { data?: unknown; items?: unknown };
  if (Array.isArray(b?.data)) return b.data as Array<Record<string, unknown>>;
  if (Array.isArray(b?.items)) return b.items as Array<Record<string, unknown>>;
  throw new PreflightError('SOURCE', 'the API answered with something other than a list of records', { retriable: false });
};

export const restConnector: ConnectorModule<RestConfig> = {
  manifest: restManifest,
  parseConfig: restConfig.parse,

  async handshake(cfg, ctx) {
    const r = await runOperation(restManifest, 'handshake', ctx, async (signal) => {
      const res = await call(cfg, ctx, signal, cfg.healthPath);
      if (res.status >= 400) throw new PreflightError(res.status === 404 ? 'CONFIG' : 'SOURCE', `config.healthPath: GET ${cfg.healthPath} answered HTTP ${res.status}`, { retriable: false });
      const b = res.body as { version?: string; principal?: string; sub?: string };
      return {
        serverVersion: b?.version ?? res.headers.get('server') ?? 'HTTP API',
        principal: b?.principal ?? b?.sub ?? cfg.auth.username ?? 'token',
        latencyMs: res.ms,
        tls: { enabled: cfg.baseUrl.startsWith('https:') },
      };
    });
    return { ...r.value, attempts: r.attempts, durationMs: r.durationMs };
  },

  async discover(cfg, ctx, opts) {
    const r = await runOperation(restManifest, 'discover', ctx, async (signal) => {
      const res = await call(cfg, ctx, signal, cfg.openApiPath);
      if (res.status !== 200 || typeof res.body !== 'object') throw new PreflightError('CONFIG', `config.openApiPath: GET ${cfg.openApiPath} did not return an OpenAPI document (HTTP ${res.status})`, { retriable: false });
      const all = datasetsFromOpenApi(res.body);
      const wanted = opts?.datasets?.map((d) => d.toLowerCase());
      return wanted ? all.filter((d) => wanted.includes(d.name.toLowerCase())) : all;
    });
    return { datasets: r.value, durationMs: r.durationMs };
  },

  async sample(cfg, ctx, dataset, limit) {
    const r = await runOperation(restManifest, 'sample', ctx, async (signal) => {
      const rows: Array<Record<string, unknown>> = [];
      for (let offset = 0; rows.length < limit; offset += cfg.pageSize) {
        const res = await call(cfg, ctx, signal, `/${dataset}?limit=${cfg.pageSize}&offset=${offset}`);
        if (res.status !== 200) throw new PreflightError('SOURCE', `GET /${dataset} answered HTTP ${res.status}`, { retriable: false });
        const page = rowsOf(res.body);
        rows.push(...page);
        if (page.length < cfg.pageSize) return { rows: rows.slice(0, limit), truncated: false };
      }
      return { rows: rows.slice(0, limit), truncated: true };
    });
    return { dataset, ...r.value };
  },

  async auditAccess(cfg, ctx, datasets) {
    const r = await runOperation(restManifest, 'auditAccess', ctx, async (signal): Promise<AccessFacts> => {
      let principal = cfg.auth.username ?? 'token';
      let scopes: string[] | undefined;
      if (cfg.tokenInfoPath) {
        const info = (await call(cfg, ctx, signal, cfg.tokenInfoPath)).body as { sub?: string; principal?: string; scopes?: string[]; scope?: string };
        principal = info.principal ?? info.sub ?? principal;
        scopes = info.scopes ?? info.scope?.split(/\s+/).filter(Boolean);
      }
      const readable: string[] = [];
      for (const ds of datasets) {
        try {
          const res = await call(cfg, ctx, signal, `/${ds}?limit=1`);
          if (res.status === 200) readable.push(ds);
        } catch (e) {
          if (!(e instanceof PreflightError && e.code === 'PERMISSION')) throw e;
        }
      }
      const admin = (scopes ?? []).some((s) => /^(admin|\*)$/i.test(s));
      return { principal, superuser: admin, canCreateRole: admin, canCreateDb: false, readable, writable: [], grants: (scopes ?? []).map((s) => ({ object: 'token', privilege: s })), ...(scopes ? { tokenScopes: scopes } : {}), tls: cfg.baseUrl.startsWith('https:'), host: new URL(cfg.baseUrl).hostname };
    });
    return r.value;
  },
};
