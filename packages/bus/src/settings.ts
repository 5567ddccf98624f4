/**
 * Every environment variable the platform reads, in one place: name, default, who reads it and
 * what it means. docs/configuration.md is checked against this list (settings.unit.spec.ts), and
 * a service refuses to start on a variable that looks like a misspelling of one of these.
 */
export interface SettingSpec {
  name: string;
  /** Shown in the docs; `-` when unset means "off". */
  default: string;
  /** Which processes read it: a service name, `all services`, `cli`, `npm start`, `tests`. */
  readBy: string;
  doc: string;
  /** Holds a secret: never logged. */
  secret?: boolean;
  /** `<name>_FILE` is accepted too: the value is read from that file (a mounted Secret) at start. */
  fileVariant?: boolean;
  /** Checked at start. */
  check?: 'port' | 'int' | 'level';
}

const SERVICES = 'all services';
const PIPELINE = 'all services, schema-registry';

export const SETTINGS: readonly SettingSpec[] = [
  // Kafka: where and how to connect.
  { name: 'KAFKA_BROKERS', default: '127.0.0.1:9092', readBy: PIPELINE, doc: 'Comma-separated bootstrap brokers, `host:port`.' },
  { name: 'KAFKA_SECURITY_PROTOCOL', default: 'PLAINTEXT (SASL_SSL when a SASL mechanism is set)', readBy: PIPELINE, doc: '`PLAINTEXT`, `SSL`, `SASL_PLAINTEXT` or `SASL_SSL`, as in the Java client.' },
  { name: 'KAFKA_SSL_CA_FILE', default: '- (the system CAs)', readBy: PIPELINE, doc: 'PEM bundle of the CAs that signed the brokers\' certificates.' },
  { name: 'KAFKA_SSL_CERT_FILE', default: '-', readBy: PIPELINE, doc: 'PEM client certificate (chain) for mutual TLS; needs `KAFKA_SSL_KEY_FILE`.' },
  { name: 'KAFKA_SSL_KEY_FILE', default: '-', readBy: PIPELINE, doc: 'PEM private key of the client certificate.', secret: true },
  { name: 'KAFKA_SSL_KEY_PASSWORD_FILE', default: '-', readBy: PIPELINE, doc: 'File holding the passphrase of an encrypted `KAFKA_SSL_KEY_FILE`.', secret: true },
  { name: 'KAFKA_SSL_VERIFY_HOSTNAME', default: 'true', readBy: PIPELINE, doc: 'Check that the broker certificate names the host connected to. The chain is always verified.' },
  { name: 'KAFKA_SASL_MECHANISM', default: '- (no SASL)', readBy: PIPELINE, doc: '`PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512` or `OAUTHBEARER`.' },
  { name: 'KAFKA_SASL_USERNAME', default: '-', readBy: PIPELINE, doc: 'SASL user (PLAIN, SCRAM); a Confluent Cloud API key.' },
  { name: 'KAFKA_SASL_PASSWORD_FILE', default: '-', readBy: PIPELINE, doc: 'File holding the SASL password (PLAIN, SCRAM); a Confluent Cloud API secret.', secret: true },
  { name: 'KAFKA_SASL_OAUTHBEARER_TOKEN_FILE', default: '-', readBy: PIPELINE, doc: 'OAUTHBEARER: file holding the current token, read again at every (re)authentication, so a sidecar can rotate it.', secret: true },
  { name: 'KAFKA_SASL_OAUTHBEARER_PROVIDER', default: '-', readBy: PIPELINE, doc: 'OAUTHBEARER: path of an ES module whose default export is a kafkajs `oauthBearerProvider` (`async () => ({ value })`); MSK IAM, Azure AD and the like plug in here.' },
  { name: 'TOPIC_PARTITIONS', default: '6', readBy: 'provision-topics', doc: 'Partitions of each event topic the provisioning job creates: the most instances of one service that can share the work.', check: 'int' },
  { name: 'TOPIC_PREFIX', default: '(empty)', readBy: SERVICES, doc: 'Prepended to every topic name; one cluster can host several platforms.' },
  // Schema registry client.
  { name: 'SCHEMA_REGISTRY_URL', default: 'http://127.0.0.1:8081', readBy: SERVICES, doc: 'Confluent-compatible registry (ours, Confluent, Karapace, Apicurio `/apis/ccompat/v7`).' },
  { name: 'SCHEMA_REGISTRY_BASIC_AUTH_FILE', default: '-', readBy: SERVICES, doc: 'File holding `key:secret` for HTTP basic auth (Confluent Cloud style).', secret: true },
  { name: 'SCHEMA_REGISTRY_BEARER_TOKEN_FILE', default: '-', readBy: SERVICES, doc: 'File holding a bearer token, read again on every request, so a sidecar can rotate it.', secret: true },
  { name: 'SCHEMA_REGISTRY_CA_FILE', default: '- (the system CAs)', readBy: SERVICES, doc: 'PEM CAs for an `https://` registry.' },
  { name: 'SCHEMA_REGISTRY_CERT_FILE', default: '-', readBy: SERVICES, doc: 'PEM client certificate for mutual TLS to the registry.' },
  { name: 'SCHEMA_REGISTRY_KEY_FILE', default: '-', readBy: SERVICES, doc: 'PEM private key of `SCHEMA_REGISTRY_CERT_FILE`.', secret: true },
  // The bundled schema registry.
  { name: 'SCHEMA_REGISTRY_HOST', default: '127.0.0.1', readBy: 'schema-registry', doc: 'Interface the bundled registry listens on (`0.0.0.0` in a container).' },
  { name: 'SCHEMA_REGISTRY_PORT', default: '8081', readBy: 'schema-registry, npm start, infra:up', doc: 'Port of the bundled registry.', check: 'port' },
  { name: 'SCHEMA_REGISTRY_TOPIC', default: '_schemas', readBy: 'schema-registry', doc: 'Compacted topic the bundled registry stores schemas in.' },
  // Process-wide.
  { name: 'LOG_LEVEL', default: 'info', readBy: SERVICES, doc: 'pino level: `fatal`, `error`, `warn`, `info`, `debug`, `trace`, `silent`.', check: 'level' },
  { name: 'HEALTH_PORT', default: '- (off)', readBy: 'handshake, schema-validator, credential-auditor, readiness', doc: 'Serves `GET /healthz` (liveness) and `GET /readyz` (consumer status) on this port; the projector answers both on its API port.', check: 'port' },
  { name: 'HEALTH_HOST', default: '127.0.0.1', readBy: 'handshake, schema-validator, credential-auditor, readiness', doc: 'Interface of the health endpoint (`0.0.0.0` in a container).' },
  { name: 'PREFLIGHT_SECRETS_DIR', default: 'development: ./.data/secrets; production: - (file: refs refused)', readBy: 'handshake, schema-validator, credential-auditor, projector', doc: 'Root of the tenants\' secret directories: `file:` refs resolve under `<root>/<tenant>/` on real paths (the Helm chart mounts `tenantSecrets.existingSecret` there); see docs/security.md.' },
  { name: 'PREFLIGHT_FILES_ROOT', default: 'development: ./.data/files; production: - (files connector off)', readBy: 'handshake, schema-validator, credential-auditor, projector', doc: 'Root of the tenants\' file directories: a `files` connector\'s `config.path` resolves under `<root>/<tenant>/`; see docs/security.md.' },
  { name: 'PREFLIGHT_ENV', default: 'development', readBy: 'handshake, schema-validator, credential-auditor, projector', doc: '`development` or `production`: picks the tenant-scope defaults (roots, `env:` secrets, egress ranges); see docs/security.md.' },
  { name: 'PREFLIGHT_ENV_SECRETS', default: 'development: on; production: off', readBy: 'handshake, schema-validator, credential-auditor, projector', doc: '`on`/`off`: whether `env:` secret refs resolve at all (only variables in the tenant\'s namespace `TENANT_<tenant>__…`).' },
  { name: 'PREFLIGHT_EGRESS_ALLOW_RANGES', default: 'development: loopback,private; production: (none)', readBy: 'handshake, schema-validator, credential-auditor, projector', doc: 'Address classes every tenant\'s sources may have besides public ones: `loopback`, `private`, `link-local`.' },
  { name: 'PREFLIGHT_EGRESS_TENANT_ALLOW', default: '-', readBy: 'handshake, schema-validator, credential-auditor, projector', doc: 'Per-tenant allowlist of hosts and CIDRs: `acme=10.20.0.0/16,db.acme.internal;globex=192.168.7.5`.' },
  { name: 'PREFLIGHT_PLATFORM_ENDPOINTS', default: '-', readBy: 'handshake, schema-validator, credential-auditor, projector', doc: 'Extra `host:port` or URLs that are the platform\'s own and never reachable through a connector (Kafka, the registry, the API, OTLP and the webhook are always included).' },
  { name: 'PREFLIGHT_PUBLIC_URL', default: '- (the request\'s own origin)', readBy: 'projector', doc: 'The API\'s public URL as agents reach it: the origin `/mcp` accepts and the resource named in `/.well-known/oauth-protected-resource`.' },
  { name: 'PREFLIGHT_MCP_ALLOWED_ORIGINS', default: '-', readBy: 'projector', doc: 'Comma-separated browser origins besides the API\'s own that may call `/mcp` (the transport spec asks servers to check `Origin`).' },
  { name: 'KAFKA_TAKEOVER_GRACE_MS', default: '3000', readBy: 'handshake, schema-validator, credential-auditor, readiness', doc: 'After gaining a partition from another instance, how long a service waits before reading what is already on it (step answers; readiness: its attempts and decisions): a member evicted mid-step lands its answer meanwhile, so it is skipped instead of run twice. 0 turns the wait off.' },
  { name: 'KAFKA_SESSION_TIMEOUT_MS', default: '6000', readBy: 'handshake, schema-validator, credential-auditor, readiness, projector', doc: 'Consumer-group session timeout: how soon a killed instance\'s partitions move to another one (heartbeats every third of it, at most 1 s).' },
  { name: 'KAFKA_PRODUCER_LINGER_MS', default: '0', readBy: SERVICES, doc: 'How long the producer waits after a publish to gather others into the same produce request (Kafka\'s `linger.ms`). 0: only what is published in the same event-loop turn, plus whatever is published while a request is in flight (one is in flight at a time: idempotent, ordered).' },
  { name: 'KAFKA_REBALANCE_TIMEOUT_MS', default: '20000', readBy: 'handshake, schema-validator, credential-auditor, readiness, projector', doc: 'How long a rebalance waits for members to rejoin.' },
  { name: 'SHUTDOWN_DEADLINE_MS', default: '10000', readBy: 'handshake, schema-validator, credential-auditor, readiness, projector', doc: 'A service that cannot stop within this (a broker that is gone) exits anyway.' },
  { name: 'KAFKA_REPLICATION_FACTOR', default: '1 on one broker, 3 on three or more', readBy: 'handshake, schema-validator, credential-auditor, readiness, projector, provision-topics', doc: 'Replication factor of the platform\'s topics; checked against the cluster and existing topics at start.' },
  { name: 'KAFKA_MIN_INSYNC_REPLICAS', default: '1 on one broker, 2 on three or more', readBy: 'handshake, schema-validator, credential-auditor, readiness, projector, provision-topics', doc: '`min.insync.replicas` of the platform\'s topics; checked against the cluster at start.' },
  { name: 'PROJECTOR_INSTANCE', default: '-', readBy: 'projector', doc: 'This replica\'s name when several projectors each serve the full read model (its snapshot records are keyed by it).' },
  { name: 'OPENLINEAGE_URL', default: '- (lineage off)', readBy: 'lineage', doc: 'OpenLineage endpoint (Marquez-compatible); run events go to `<url>/api/v1/lineage`. Unset: the lineage service exits at once.' },
  { name: 'OPENLINEAGE_NAMESPACE', default: 'connector-preflight', readBy: 'lineage', doc: 'Job namespace of the `preflight.<connector>` jobs.' },
  { name: 'OPENLINEAGE_API_KEY', default: '-', readBy: 'lineage', doc: 'Bearer token for the OpenLineage endpoint.' },
  { name: 'SCHEMA_REGISTRY_PUBLISH_CONTRACTS', default: 'false', readBy: 'schema-registry', doc: '`true`: the registry process registers each connector contract\'s datasets as subjects with their PII classification as metadata (docs/schema-registry.md).' },
  { name: 'PREFLIGHT_DATA_DIR', default: '<repo>/.data', readBy: 'all services, npm start, tests', doc: 'Local state: dedupe files, local servers\' data, logs.' },
  { name: 'PREFLIGHT_RECENT_SPANS', default: '2000', readBy: SERVICES, doc: 'How many finished spans each process keeps for the dashboard\'s traces view.', check: 'int' },
  { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', default: '- (no export)', readBy: SERVICES, doc: 'OTLP/HTTP collector; spans go to `<endpoint>/v1/traces`.' },
  { name: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', default: '-', readBy: SERVICES, doc: 'Full OTLP/HTTP traces URL; wins over `OTEL_EXPORTER_OTLP_ENDPOINT`.' },
  { name: 'OTEL_TRACES_EXPORTER', default: 'otlp', readBy: SERVICES, doc: '`none` turns span export off.' },
  { name: 'OTEL_SERVICE_NAME', default: 'the service name', readBy: SERVICES, doc: 'OpenTelemetry `service.name`.' },
  // Service behaviour.
  { name: 'PREFLIGHT_TIMEOUT_MS', default: '60000', readBy: 'readiness', doc: 'How long readiness waits for all of one attempt\'s results before FAILED (timeout).', check: 'int' },
  { name: 'APPROVAL_TIMEOUT_MS', default: '86400000', readBy: 'readiness', doc: 'How long an approval may stay pending.', check: 'int' },
  { name: 'READINESS_RECOVERY_WINDOW_MS', default: 'unset (the changelog alone)', readBy: 'readiness', doc: 'Upgrades only: also re-read this window of the input topics when restoring attempts (for a group that ran a version without the attempts changelog).', check: 'int' },
  { name: 'PREFLIGHT_FAILED_ROW_SAMPLES_MAX', default: '20', readBy: 'schema-validator', doc: 'The most failed-row samples per failed expectation a contract may ask for (`customProperties: failedRowSamples`); 0 turns them off.', check: 'int' },
  { name: 'INCIDENT_WEBHOOK_URL', default: '- (log only)', readBy: 'schema-validator', doc: 'Incidents are POSTed here as JSON.', secret: true, fileVariant: true },
  { name: 'OPERATION_TIMEOUT_MS', default: '120000', readBy: 'projector', doc: 'An operation still running after this is reported TIMED_OUT.', check: 'int' },
  { name: 'API_HOST', default: '127.0.0.1', readBy: 'projector', doc: 'Interface of the HTTP API and dashboard (`0.0.0.0` in a container).' },
  { name: 'API_PORT', default: '8080', readBy: 'projector, npm start', doc: 'Port of the HTTP API, dashboard, `/metrics`, `/healthz`.', check: 'port' },
  { name: 'PREFLIGHT_JWT_SECRET', default: 'a development secret', readBy: 'projector, cli', doc: 'HS256 secret for API tokens. In production prefer a key pair or JWKS.', secret: true, fileVariant: true },
  { name: 'PREFLIGHT_JWT_PUBLIC_KEY', default: '-', readBy: 'projector', doc: 'PEM public key: the API accepts RS256/ES256 tokens it verifies.', fileVariant: true },
  { name: 'PREFLIGHT_JWKS_URL', default: '-', readBy: 'projector', doc: 'JWKS endpoint of your identity provider.' },
  // Command line and local tooling.
  { name: 'PREFLIGHT_API_URL', default: 'http://127.0.0.1:8080', readBy: 'cli', doc: 'The API the `preflight` command talks to.' },
  { name: 'PREFLIGHT_TOKEN', default: '- (a development token on loopback)', readBy: 'cli', doc: 'Bearer token the CLI sends.', secret: true, fileVariant: true },
  { name: 'PREFLIGHT_STRICT_ENV', default: 'false', readBy: SERVICES, doc: '`true`: an unknown `PREFLIGHT_`/`KAFKA_`/`SCHEMA_REGISTRY_` variable stops the start instead of a warning (the Helm chart sets it).' },
  { name: 'PREFLIGHT_SKIP_POSTGRES', default: '-', readBy: 'npm start', doc: 'Any value: the demo does not start PostgreSQL.' },
  { name: 'KAFKA_PORT', default: '9092', readBy: 'npm start, infra:up', doc: 'Port of the local broker these start.', check: 'port' },
  { name: 'KAFKA_CONTROLLER_PORT', default: 'KAFKA_PORT + 1', readBy: 'infra:up', doc: 'KRaft controller port of the local broker.', check: 'port' },
];

/** Variables with these prefixes belong to us: an unknown one is reported, never silently ignored. */
export const OWNED_PREFIXES = ['PREFLIGHT_', 'KAFKA_', 'SCHEMA_REGISTRY_'] as const;

/** Every name a process may be given, `_FILE` variants included. */
export const KNOWN_NAMES: ReadonlySet<string> = new Set(SETTINGS.flatMap((s) => (s.fileVariant ? [s.name, `${s.name}_FILE`] : [s.name])));
const KNOWN = KNOWN_NAMES;

/** Levenshtein distance, bounded: anything beyond `max` is reported as `max + 1`. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length]!;
}

export interface UnknownVariable {
  name: string;
  /** The known variable it is probably a misspelling of. */
  didYouMean?: string;
}

/**
 * Our-prefixed variables nobody reads. Kubernetes' service links (`KAFKA_PORT_9092_TCP…` for a
 * Service called kafka) would show up here too: the chart turns them off.
 */
export function unknownVariables(env: Record<string, string | undefined>): UnknownVariable[] {
  const out: UnknownVariable[] = [];
  for (const name of Object.keys(env).sort()) {
    if (KNOWN.has(name) || !OWNED_PREFIXES.some((p) => name.startsWith(p))) continue;
    let best: { name: string; d: number } | undefined;
    for (const known of KNOWN) {
      const d = distance(name, known, 3);
      if (d <= 3 && (!best || d < best.d)) best = { name: known, d };
    }
    out.push({ name, ...(best ? { didYouMean: best.name } : {}) });
  }
  return out;
}
