import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { isAbsolute, resolve } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { pathToFileURL } from 'node:url';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel, type KafkaConfig, type LogEntry, type OauthbearerProviderResponse, type SASLOptions } from 'kafkajs';
import { PreflightError, type FieldIssue, type Logger } from '@preflight/core';
import { SETTINGS, unknownVariables } from './settings.js';
import { DEFAULT_TAKEOVER_GRACE_MS, timingsFor, type GroupTimings } from './group.js';
import { topicDurability } from './topics.js';

/** kafkajs' TLS and SASL options, already read from their files, and where each came from. */
export interface KafkaSecurity {
  protocol: SecurityProtocol;
  ssl?: ConnectionOptions;
  sasl?: SASLOptions;
  /** Setting → value (file paths, user, mechanism; never a secret), for error messages. */
  origin: Record<string, string>;
}

/** How the registry client authenticates and trusts an https registry. */
export interface RegistryClientOptions {
  basicAuth?: { username: string; password: string };
  /** Called on every request so a rotated token is picked up. */
  bearerToken?: () => string;
  tls?: Pick<ConnectionOptions, 'ca' | 'cert' | 'key'>;
}

export interface BusConfig {
  brokers: string[];
  schemaRegistryUrl: string;
  /** Prepended to every topic name; tests use a random one so each owns its topics. */
  topicPrefix: string;
  clientId: string;
  /** Absent: PLAINTEXT, no SASL (the local broker). */
  kafkaSecurity?: KafkaSecurity;
  registryClient?: RegistryClientOptions;
  /** KAFKA_PRODUCER_LINGER_MS; absent: 0 (gather within one event-loop turn). */
  producerLingerMs?: number;
}

/** Settings of a service process beyond reaching Kafka and the registry. */
export interface ProcessSettings {
  groupTimings: GroupTimings;
  shutdownDeadlineMs: number;
  /** KAFKA_REPLICATION_FACTOR and KAFKA_MIN_INSYNC_REPLICAS as given, applied against the cluster's size at start. */
  durability: Pick<Env, 'KAFKA_REPLICATION_FACTOR' | 'KAFKA_MIN_INSYNC_REPLICAS'>;
  /** The health endpoint (HEALTH_HOST, HEALTH_PORT); null when off. */
  health: { host: string; port: number } | null;
  /** Partitions of each event topic the provisioning job creates. */
  topicPartitions: number;
}

export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number];
export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const;

type Env = Record<string, string | undefined>;

/** The offending value (never a secret: readers leave those out), unless the message names it already. */
const shown = (i: FieldIssue): string => {
  if (i.value === undefined) return '';
  const text = JSON.stringify(i.value);
  return i.message.includes(typeof i.value === 'string' ? i.value : text) ? '' : ` (got ${text})`;
};

/** Every problem of one configuration, each naming its variable and value; thrown once, all at once. */
export class ConfigError extends PreflightError {
  constructor(issues: FieldIssue[]) {
    super('CONFIG', `invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${issues.map((i) => `  - ${i.field}: ${i.message}${shown(i)}`).join('\n')}`, { issues, retriable: false });
  }
}

/**
 * Reads one process's settings from its environment, collecting every problem (naming the
 * variable and its value) instead of stopping at the first: `done` answers the typed config or
 * throws them all at once. The bus's own settings and each service's config module use it.
 */
export class SettingsReader {
  readonly issues: FieldIssue[] = [];
  readonly warnings: string[] = [];
  constructor(private readonly env: Env) {}

  get(name: string): string | undefined {
    const v = this.env[name]?.trim();
    return v === '' ? undefined : v;
  }

  problem(field: string, message: string, value?: string): void {
    this.issues.push({ field, message, ...(value !== undefined ? { value } : {}) });
  }

  /** The file's content, or undefined after recording why it could not be read. */
  file(name: string, options: { secret?: boolean } = {}): string | undefined {
    const path = this.get(name);
    if (path === undefined) return undefined;
    try {
      const text = readFileSync(path, 'utf8');
      // Secrets mounted from Kubernetes or written by `echo` end in a newline that is not theirs.
      return options.secret ? text.replace(/\r?\n$/, '') : text;
    } catch (e) {
      this.problem(name, `cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, path);
      return undefined;
    }
  }

  boolean(name: string, fallback: boolean): boolean {
    const v = this.get(name);
    if (v === undefined) return fallback;
    if (/^(true|1|yes)$/i.test(v)) return true;
    if (/^(false|0|no)$/i.test(v)) return false;
    this.problem(name, 'must be true or false', v);
    return fallback;
  }

  text(name: string, fallback: string): string {
    return this.get(name) ?? fallback;
  }

  /** A whole number of at least `min`. */
  wholeNumber(name: string, fallback: number, min = 0): number {
    const v = this.get(name);
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v) || Number(v) < min) {
      this.problem(name, `must be a whole number${min > 0 ? ` of at least ${min}` : ''}`, v);
      return fallback;
    }
    return Number(v);
  }

  port(name: string, fallback: number): number {
    const v = this.get(name);
    if (v === undefined) return fallback;
    if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) {
      this.problem(name, 'must be a port number (0-65535)', v);
      return fallback;
    }
    return Number(v);
  }

  /** An http(s) URL without a trailing slash; `secret` keeps the value out of the problem. */
  url(name: string, options: { secret?: boolean } = {}): string | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    if (!/^https?:\/\/[^\s]+$/.test(v)) {
      this.problem(name, 'must be an http:// or https:// URL', options.secret ? undefined : v);
      return undefined;
    }
    return v.replace(/\/$/, '');
  }

  /** A comma-separated list, blanks dropped. */
  list(name: string): string[] {
    return (this.get(name) ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  }

  /** The config when every setting was good; otherwise a ConfigError listing every problem. */
  done<T>(config: T): T {
    if (this.issues.length > 0) throw new ConfigError(this.issues);
    return config;
  }
}

type Collector = SettingsReader;

function kafkaSecurity(c: Collector): KafkaSecurity | undefined {
  const origin: Record<string, string> = {};
  const note = (name: string): void => {
    const v = c.get(name);
    if (v !== undefined) origin[name] = v;
  };
  const rawMechanism = c.get('KAFKA_SASL_MECHANISM');
  let mechanism = rawMechanism?.toUpperCase();
  if (mechanism !== undefined && !(SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
    c.problem('KAFKA_SASL_MECHANISM', `must be one of ${SASL_MECHANISMS.join(', ')}`, rawMechanism);
    mechanism = undefined;
  }
  const rawProtocol = c.get('KAFKA_SECURITY_PROTOCOL');
  let protocol: SecurityProtocol = rawMechanism ? 'SASL_SSL' : 'PLAINTEXT';
  if (rawProtocol !== undefined) {
    if ((SECURITY_PROTOCOLS as readonly string[]).includes(rawProtocol.toUpperCase())) protocol = rawProtocol.toUpperCase() as SecurityProtocol;
    else c.problem('KAFKA_SECURITY_PROTOCOL', `must be one of ${SECURITY_PROTOCOLS.join(', ')}`, rawProtocol);
  }
  const tls = protocol === 'SSL' || protocol === 'SASL_SSL';
  const sasl = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';
  if (sasl && !rawMechanism) c.problem('KAFKA_SASL_MECHANISM', `is required with KAFKA_SECURITY_PROTOCOL=${protocol}`);
  if (!sasl && mechanism) c.problem('KAFKA_SASL_MECHANISM', `is set but KAFKA_SECURITY_PROTOCOL=${protocol} does not use SASL`, rawMechanism);
  for (const name of ['KAFKA_SSL_CA_FILE', 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE', 'KAFKA_SSL_KEY_PASSWORD_FILE', 'KAFKA_SSL_VERIFY_HOSTNAME']) {
    if (!tls && c.get(name) !== undefined) c.problem(name, `is set but KAFKA_SECURITY_PROTOCOL=${protocol} does not use TLS`);
  }
  for (const name of ['KAFKA_SECURITY_PROTOCOL', 'KAFKA_SASL_MECHANISM', 'KAFKA_SSL_CA_FILE', 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD_FILE', 'KAFKA_SASL_OAUTHBEARER_TOKEN_FILE', 'KAFKA_SASL_OAUTHBEARER_PROVIDER']) note(name);
  if (protocol === 'PLAINTEXT' && Object.keys(origin).length === 0) return undefined;

  const security: KafkaSecurity = { protocol, origin };
  if (tls) {
    const ssl: ConnectionOptions = { rejectUnauthorized: true };
    const ca = c.file('KAFKA_SSL_CA_FILE');
    if (ca !== undefined) ssl.ca = [ca];
    const cert = c.file('KAFKA_SSL_CERT_FILE');
    const key = c.file('KAFKA_SSL_KEY_FILE', { secret: true });
    const passphrase = c.file('KAFKA_SSL_KEY_PASSWORD_FILE', { secret: true });
    if ((c.get('KAFKA_SSL_CERT_FILE') === undefined) !== (c.get('KAFKA_SSL_KEY_FILE') === undefined)) {
      c.problem(c.get('KAFKA_SSL_CERT_FILE') === undefined ? 'KAFKA_SSL_CERT_FILE' : 'KAFKA_SSL_KEY_FILE', 'mutual TLS needs both KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE');
    }
    if (cert !== undefined) ssl.cert = cert;
    if (key !== undefined) ssl.key = key;
    if (passphrase !== undefined) ssl.passphrase = passphrase;
    // Only the name check can be turned off (brokers reached through an alias); never the chain.
    if (!c.boolean('KAFKA_SSL_VERIFY_HOSTNAME', true)) ssl.checkServerIdentity = () => undefined;
    security.ssl = ssl;
  }
  if (sasl && mechanism) {
    if (mechanism === 'OAUTHBEARER') {
      const tokenFile = c.get('KAFKA_SASL_OAUTHBEARER_TOKEN_FILE');
      const module = c.get('KAFKA_SASL_OAUTHBEARER_PROVIDER');
      if ((tokenFile === undefined) === (module === undefined)) {
        c.problem('KAFKA_SASL_OAUTHBEARER_TOKEN_FILE', 'OAUTHBEARER needs exactly one of KAFKA_SASL_OAUTHBEARER_TOKEN_FILE or KAFKA_SASL_OAUTHBEARER_PROVIDER');
      } else if (tokenFile !== undefined) {
        if (c.file('KAFKA_SASL_OAUTHBEARER_TOKEN_FILE', { secret: true }) !== undefined) security.sasl = { mechanism: 'oauthbearer', oauthBearerProvider: fileTokenProvider(tokenFile) };
      } else if (module !== undefined) {
        const path = isAbsolute(module) ? module : resolve(module);
        if (c.file('KAFKA_SASL_OAUTHBEARER_PROVIDER') !== undefined) security.sasl = { mechanism: 'oauthbearer', oauthBearerProvider: moduleTokenProvider(path) };
      }
    } else {
      const username = c.get('KAFKA_SASL_USERNAME');
      if (username === undefined) c.problem('KAFKA_SASL_USERNAME', `is required with KAFKA_SASL_MECHANISM=${mechanism}`);
      if (c.get('KAFKA_SASL_PASSWORD_FILE') === undefined) c.problem('KAFKA_SASL_PASSWORD_FILE', `is required with KAFKA_SASL_MECHANISM=${mechanism} (a file holding the password)`);
      const password = c.file('KAFKA_SASL_PASSWORD_FILE', { secret: true });
      if (username !== undefined && password !== undefined) {
        const m = mechanism === 'PLAIN' ? 'plain' : mechanism === 'SCRAM-SHA-256' ? 'scram-sha-256' : 'scram-sha-512';
        security.sasl = { mechanism: m, username, password };
      }
    }
  }
  return security;
}

/** Reads the token file at every (re)authentication: a sidecar refreshing it is all rotation takes. */
function fileTokenProvider(path: string): () => Promise<OauthbearerProviderResponse> {
  return async () => ({ value: readFileSync(path, 'utf8').trim() });
}

function moduleTokenProvider(path: string): () => Promise<OauthbearerProviderResponse> {
  let provider: Promise<() => Promise<OauthbearerProviderResponse>> | undefined;
  return async () => {
    provider ??= import(pathToFileURL(path).href).then((m: { default?: unknown }) => {
      if (typeof m.default !== 'function') throw new PreflightError('CONFIG', `KAFKA_SASL_OAUTHBEARER_PROVIDER: ${path} has no default export function`, { retriable: false });
      return m.default as () => Promise<OauthbearerProviderResponse>;
    });
    return (await provider)();
  };
}

function registryClient(c: Collector, url: string): RegistryClientOptions | undefined {
  const out: RegistryClientOptions = {};
  const basic = c.file('SCHEMA_REGISTRY_BASIC_AUTH_FILE', { secret: true });
  if (basic !== undefined) {
    const at = basic.indexOf(':');
    if (at <= 0) c.problem('SCHEMA_REGISTRY_BASIC_AUTH_FILE', 'the file must hold key:secret');
    else out.basicAuth = { username: basic.slice(0, at), password: basic.slice(at + 1) };
  }
  const bearerPath = c.get('SCHEMA_REGISTRY_BEARER_TOKEN_FILE');
  if (bearerPath !== undefined && c.file('SCHEMA_REGISTRY_BEARER_TOKEN_FILE', { secret: true }) !== undefined) {
    out.bearerToken = () => readFileSync(bearerPath, 'utf8').trim();
  }
  if (out.basicAuth && out.bearerToken) c.problem('SCHEMA_REGISTRY_BEARER_TOKEN_FILE', 'set either SCHEMA_REGISTRY_BASIC_AUTH_FILE or SCHEMA_REGISTRY_BEARER_TOKEN_FILE, not both');
  const tls: NonNullable<RegistryClientOptions['tls']> = {};
  const ca = c.file('SCHEMA_REGISTRY_CA_FILE');
  const cert = c.file('SCHEMA_REGISTRY_CERT_FILE');
  const key = c.file('SCHEMA_REGISTRY_KEY_FILE', { secret: true });
  if ((c.get('SCHEMA_REGISTRY_CERT_FILE') === undefined) !== (c.get('SCHEMA_REGISTRY_KEY_FILE') === undefined)) {
    c.problem(c.get('SCHEMA_REGISTRY_CERT_FILE') === undefined ? 'SCHEMA_REGISTRY_CERT_FILE' : 'SCHEMA_REGISTRY_KEY_FILE', 'mutual TLS to the registry needs both SCHEMA_REGISTRY_CERT_FILE and SCHEMA_REGISTRY_KEY_FILE');
  }
  if (ca !== undefined) tls.ca = [ca];
  if (cert !== undefined) tls.cert = cert;
  if (key !== undefined) tls.key = key;
  if (Object.keys(tls).length > 0) {
    if (!url.startsWith('https:')) c.problem('SCHEMA_REGISTRY_CA_FILE', `TLS settings need an https:// SCHEMA_REGISTRY_URL`, url);
    out.tls = tls;
  }
  if ((out.basicAuth || out.bearerToken) && url.startsWith('http:') && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(url)) {
    c.warnings.push(`SCHEMA_REGISTRY_URL ${url} is plain http: the registry credentials travel unencrypted`);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Where a secret must not be: the value itself in the environment (visible in `ps e`, `docker
 * inspect`, crash dumps). Each secret setting is read only from a file.
 */
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Process-wide values checked for shape, and `<NAME>_FILE` read into `<NAME>` (the convention of
 * Docker's official images) so a mounted Secret can stand in for any secret setting.
 */
function processSettings(c: Collector, env: Env): void {
  for (const s of SETTINGS) {
    if (s.fileVariant && env[`${s.name}_FILE`] !== undefined) {
      if (env[s.name] !== undefined) c.problem(`${s.name}_FILE`, `set either ${s.name} or ${s.name}_FILE, not both`);
      const value = c.file(`${s.name}_FILE`, { secret: true });
      if (value !== undefined) env[s.name] = value;
    }
    const v = c.get(s.name);
    if (v === undefined || !s.check) continue;
    if (s.check === 'port' && !(/^\d{1,5}$/.test(v) && Number(v) <= 65535)) c.problem(s.name, 'must be a port number (0-65535)', v);
    if (s.check === 'int' && !/^\d+$/.test(v)) c.problem(s.name, 'must be a whole number', v);
    if (s.check === 'level' && !LEVELS.includes(v)) c.problem(s.name, `must be one of ${LEVELS.join(', ')}`, v);
  }
}

function refuseInlineSecrets(c: Collector, env: Env): void {
  for (const s of SETTINGS) {
    if (!s.secret || !s.name.endsWith('_FILE')) continue;
    const inline = s.name.slice(0, -'_FILE'.length);
    if (env[inline] !== undefined) c.problem(inline, `secrets are read only from files: write it to a file and set ${s.name} to its path`);
  }
}

export interface LoadedBusConfig {
  config: BusConfig;
  /** The process's own settings, read with the rest. */
  process: ProcessSettings;
  /** Worth a log line, not worth refusing to start. */
  warnings: string[];
}

/**
 * The bus settings of one process from its environment, validated as a whole: every problem
 * (bad value, unreadable file, a misspelt variable, a secret given inline) is collected and
 * thrown at once as a ConfigError, so one restart fixes them all.
 */
export function loadBusConfig(clientId: string, env: Env = process.env): LoadedBusConfig {
  // (Fills `<NAME>` from `<NAME>_FILE` in `env` as a side effect, so later readers see the value.)
  const c = new SettingsReader(env);
  const brokers = (c.get('KAFKA_BROKERS') ?? '127.0.0.1:9092').split(',').map((s) => s.trim()).filter(Boolean);
  for (const b of brokers) if (!/^[^\s:/]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(b)) c.problem('KAFKA_BROKERS', 'each broker must be host:port', b);
  const schemaRegistryUrl = c.get('SCHEMA_REGISTRY_URL') ?? 'http://127.0.0.1:8081';
  if (!/^https?:\/\/[^\s]+$/.test(schemaRegistryUrl)) c.problem('SCHEMA_REGISTRY_URL', 'must be an http:// or https:// URL', /@/.test(schemaRegistryUrl) ? undefined : schemaRegistryUrl); // user:password@ stays out
  else if (/^https?:\/\/[^/]*@/.test(schemaRegistryUrl)) c.problem('SCHEMA_REGISTRY_URL', 'must not carry credentials; use SCHEMA_REGISTRY_BASIC_AUTH_FILE');
  refuseInlineSecrets(c, env);
  processSettings(c, env);
  const kafkaSec = kafkaSecurity(c);
  const registry = /^https?:\/\//.test(schemaRegistryUrl) ? registryClient(c, schemaRegistryUrl) : undefined;
  const proc = readProcessSettings(c, env);
  const producerLingerMs = c.wholeNumber('KAFKA_PRODUCER_LINGER_MS', 0);
  const strict = c.boolean('PREFLIGHT_STRICT_ENV', false);
  for (const u of unknownVariables(env)) {
    if (c.issues.some((i) => i.field === u.name)) continue;
    if (u.didYouMean) c.problem(u.name, `unknown variable; did you mean ${u.didYouMean}?`);
    else if (strict) c.problem(u.name, 'unknown variable (PREFLIGHT_STRICT_ENV=true); see docs/configuration.md');
    else c.warnings.push(`${u.name} is not a setting of this platform; ignored (see docs/configuration.md)`);
  }
  if (c.issues.length > 0) throw new ConfigError(c.issues);
  return {
    config: {
      brokers,
      schemaRegistryUrl: schemaRegistryUrl.replace(/\/$/, ''),
      topicPrefix: env['TOPIC_PREFIX'] ?? '',
      clientId,
      ...(kafkaSec ? { kafkaSecurity: kafkaSec } : {}),
      ...(registry ? { registryClient: registry } : {}),
      ...(producerLingerMs > 0 ? { producerLingerMs } : {}),
    },
    process: proc,
    warnings: c.warnings,
  };
}

function readProcessSettings(c: SettingsReader, env: Env): ProcessSettings {
  const durability = { KAFKA_REPLICATION_FACTOR: c.get('KAFKA_REPLICATION_FACTOR'), KAFKA_MIN_INSYNC_REPLICAS: c.get('KAFKA_MIN_INSYNC_REPLICAS') };
  try {
    // The values' own problems now; whether the cluster has brokers enough is known only once connected.
    topicDurability(Number.MAX_SAFE_INTEGER, durability);
  } catch (e) {
    c.problem(/KAFKA_MIN_INSYNC_REPLICAS=\d+ is more/.test((e as Error).message) ? 'KAFKA_MIN_INSYNC_REPLICAS' : 'KAFKA_REPLICATION_FACTOR', (e as Error).message);
  }
  // HEALTH_PORT and TOPIC_PARTITIONS are checked by the catalogue's `check` with the other settings.
  const healthPort = c.get('HEALTH_PORT');
  return {
    groupTimings: { ...timingsFor(c.wholeNumber('KAFKA_SESSION_TIMEOUT_MS', 6_000, 1), c.wholeNumber('KAFKA_REBALANCE_TIMEOUT_MS', 20_000, 1)), takeoverGrace: c.wholeNumber('KAFKA_TAKEOVER_GRACE_MS', DEFAULT_TAKEOVER_GRACE_MS) },
    shutdownDeadlineMs: c.wholeNumber('SHUTDOWN_DEADLINE_MS', 10_000, 1),
    durability,
    health: healthPort === undefined ? null : { host: c.text('HEALTH_HOST', '127.0.0.1'), port: Number(healthPort) },
    topicPartitions: Number(env['TOPIC_PARTITIONS'] ?? 6) || 6,
  };
}

/** {@link loadBusConfig} without the warnings; throws a ConfigError listing every problem. */
export function busConfigFromEnv(clientId: string, env: Env = process.env): BusConfig {
  return loadBusConfig(clientId, env).config;
}

/** The registry client's options: basic auth, a bearer header per request, and an https agent. */
export function schemaRegistryClientArgs(url: string, options: RegistryClientOptions | undefined): ConstructorParameters<typeof SchemaRegistry>[0] {
  const bearer = options?.bearerToken;
  return {
    host: url,
    ...(options?.basicAuth ? { auth: options.basicAuth } : {}),
    ...(options?.tls ? { agent: new HttpsAgent({ ...options.tls, keepAlive: true }) } : {}),
    ...(bearer ? { middlewares: [() => ({ request: (req) => req.enhance({ headers: { authorization: `Bearer ${bearer()}` } }) })] } : {}),
  };
}

const LEVEL: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** A kafkajs client whose own log lines go through pino, one JSON format for the whole process. */
// We pick the partitioner explicitly (kafkajs' default is Java-compatible murmur2), so the v2
// migration notice is noise in every service's log.
process.env['KAFKAJS_NO_PARTITIONER_WARNING'] ??= '1';

export function createKafka(config: Pick<BusConfig, 'brokers' | 'clientId' | 'kafkaSecurity'>, logger: Logger, extra: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 100, retries: 8 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log }: LogEntry) => {
        const { message, ...rest } = log;
        // Retries are bounded on purpose: a publish that cannot succeed must fail (retriable) to
        // its caller instead of blocking a partition forever; the notice says nothing new.
        const lvl = message.startsWith('Limiting retries for the idempotent producer') ? 'debug' : (LEVEL[level] ?? 'info');
        logger[lvl]({ kafkajs: namespace, ...rest }, message);
      },
    ...kafkaClientSecurity(config.kafkaSecurity),
    ...extra,
  });
}

/** The `ssl`/`sasl` part of a kafkajs config, for clients built outside createKafka. */
export function kafkaClientSecurity(security: KafkaSecurity | undefined): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  if (!security) return {};
  return { ...(security.ssl ? { ssl: security.ssl } : {}), ...(security.sasl ? { sasl: security.sasl } : {}) };
}

/**
 * Turns the first connection's failure into a message that names the setting to fix: kafkajs
 * says "SASL SCRAM SHA512 authentication failed" or "self-signed certificate" and no more.
 */
export function explainKafkaFailure(e: unknown, config: Pick<BusConfig, 'brokers' | 'kafkaSecurity'>): PreflightError {
  const err = e as { name?: string; message?: string; code?: string; cause?: { code?: string; message?: string } };
  const text = `${err.name ?? ''} ${err.message ?? ''} ${err.code ?? ''} ${err.cause?.code ?? ''} ${err.cause?.message ?? ''}`;
  const o = config.kafkaSecurity?.origin ?? {};
  const brokers = config.brokers.join(',');
  const tokenFrom = o['KAFKA_SASL_OAUTHBEARER_TOKEN_FILE']
    ? `the token in KAFKA_SASL_OAUTHBEARER_TOKEN_FILE=${o['KAFKA_SASL_OAUTHBEARER_TOKEN_FILE']}`
    : `the token from KAFKA_SASL_OAUTHBEARER_PROVIDER=${o['KAFKA_SASL_OAUTHBEARER_PROVIDER'] ?? '?'}`;
  let message: string;
  if (/SASL|Authentication/i.test(text)) {
    const who = o['KAFKA_SASL_USERNAME'] ? ` for KAFKA_SASL_USERNAME=${o['KAFKA_SASL_USERNAME']}` : '';
    const from = o['KAFKA_SASL_PASSWORD_FILE'] ? `the password in KAFKA_SASL_PASSWORD_FILE=${o['KAFKA_SASL_PASSWORD_FILE']}` : tokenFrom;
    message = `Kafka refused the SASL credentials${who} (KAFKA_SASL_MECHANISM=${o['KAFKA_SASL_MECHANISM'] ?? '?'}): check ${from}`;
  } else if (/certificate|self.signed|CERT_|SSL|TLS|ERR_TLS|altnames|wrong version number/i.test(text)) {
    message = `TLS to ${brokers} failed (${err.message ?? 'error'}): check KAFKA_SSL_CA_FILE${o['KAFKA_SSL_CA_FILE'] ? `=${o['KAFKA_SSL_CA_FILE']}` : ' (unset: system CAs)'}, KAFKA_SSL_VERIFY_HOSTNAME and KAFKA_SECURITY_PROTOCOL=${config.kafkaSecurity?.protocol ?? 'PLAINTEXT'}`;
  } else if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|Connection timeout|KafkaJSNumberOfRetriesExceeded|KafkaJSConnectionError|broker pool/i.test(text)) {
    message = `cannot reach Kafka at KAFKA_BROKERS=${brokers} (${err.message ?? 'error'}) with KAFKA_SECURITY_PROTOCOL=${config.kafkaSecurity?.protocol ?? 'PLAINTEXT'}`;
    // kafkajs takes the broker's OAUTHBEARER error challenge for success; the broker then closes
    // the connection, so a rejected token surfaces here, not as an authentication error.
    if (o['KAFKA_SASL_MECHANISM']?.toUpperCase() === 'OAUTHBEARER') message += `; an OAUTHBEARER token the broker rejects ends the same way: check ${tokenFrom}`;
  } else {
    message = `Kafka at KAFKA_BROKERS=${brokers} failed: ${err.message ?? String(e)}`;
  }
  return new PreflightError('CONFIG', message, { cause: e, retriable: false });
}
