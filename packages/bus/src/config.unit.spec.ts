import { describe, expect, it } from 'vitest';
import { ConfigError, explainKafkaFailure, loadBusConfig, schemaRegistryClientArgs } from './config.js';
import { unknownVariables } from './settings.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadBusConfig('unit', env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues.map((i) => `${i.field}: ${i.message}`);
  }
  return [];
}

describe('loadBusConfig', () => {
  it('defaults to the local PLAINTEXT broker and registry, with no security at all', () => {
    const { config, warnings } = loadBusConfig('svc', {});
    expect(config).toEqual({ brokers: ['127.0.0.1:9092'], schemaRegistryUrl: 'http://127.0.0.1:8081', topicPrefix: '', clientId: 'svc' });
    expect(warnings).toEqual([]);
  });

  it('reads the producer linger as a whole number of milliseconds', () => {
    expect(loadBusConfig('svc', { KAFKA_PRODUCER_LINGER_MS: '5' }).config.producerLingerMs).toBe(5);
    expect(loadBusConfig('svc', { KAFKA_PRODUCER_LINGER_MS: '0' }).config.producerLingerMs).toBeUndefined();
    expect(problems({ KAFKA_PRODUCER_LINGER_MS: '2.5' })).toEqual(['KAFKA_PRODUCER_LINGER_MS: must be a whole number']);
  });

  it('lists every problem at once, each naming its variable', () => {
    const found = problems({
      KAFKA_BROKERS: 'broker-1:9092,broker-2',
      KAFKA_SECURITY_PROTOCOL: 'SASL_TLS',
      KAFKA_SASL_MECHANISM: 'GSSAPI',
      SCHEMA_REGISTRY_URL: 'registry:8081',
      API_PORT: '80a',
      LOG_LEVEL: 'loud',
    });
    expect(found).toEqual(
      expect.arrayContaining([
        'KAFKA_BROKERS: each broker must be host:port',
        expect.stringMatching(/^KAFKA_SECURITY_PROTOCOL: must be one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL/),
        expect.stringMatching(/^KAFKA_SASL_MECHANISM: must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER/),
        'SCHEMA_REGISTRY_URL: must be an http:// or https:// URL',
        'API_PORT: must be a port number (0-65535)',
        expect.stringMatching(/^LOG_LEVEL: must be one of/),
      ]),
    );
    expect(found).toHaveLength(6);
  });

  it('SASL needs a user and a password file, and names them', () => {
    expect(problems({ KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512' })).toEqual([
      'KAFKA_SASL_USERNAME: is required with KAFKA_SASL_MECHANISM=SCRAM-SHA-512',
      'KAFKA_SASL_PASSWORD_FILE: is required with KAFKA_SASL_MECHANISM=SCRAM-SHA-512 (a file holding the password)',
    ]);
  });

  it('names the file it cannot read, without its content', () => {
    const found = problems({ KAFKA_SASL_MECHANISM: 'PLAIN', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD_FILE: '/nonexistent/pw', KAFKA_SSL_CA_FILE: '/nonexistent/ca.pem' });
    expect(found).toEqual(['KAFKA_SSL_CA_FILE: cannot read /nonexistent/ca.pem (ENOENT)', 'KAFKA_SASL_PASSWORD_FILE: cannot read /nonexistent/pw (ENOENT)']);
  });

  it('refuses a secret given inline in the environment, without echoing it', () => {
    let message = '';
    try {
      loadBusConfig('svc', { KAFKA_SASL_PASSWORD: 'hunter2-inline', SCHEMA_REGISTRY_KEY: 'k' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('KAFKA_SASL_PASSWORD: secrets are read only from files: write it to a file and set KAFKA_SASL_PASSWORD_FILE to its path');
    expect(message).toContain('SCHEMA_REGISTRY_KEY: secrets are read only from files');
    expect(message).not.toContain('hunter2-inline');
  });

  it('reports a misspelt variable with the one it probably meant, and warns about an unknown one', () => {
    expect(problems({ KAFKA_SASL_MECHANISIM: 'PLAIN' })).toEqual(['KAFKA_SASL_MECHANISIM: unknown variable; did you mean KAFKA_SASL_MECHANISM?']);
    expect(problems({ SCHEMA_REGISTRY_UR: 'http://x:1' })).toEqual(['SCHEMA_REGISTRY_UR: unknown variable; did you mean SCHEMA_REGISTRY_URL?']);
    const { warnings } = loadBusConfig('svc', { PREFLIGHT_SOMETHING_ELSE_ENTIRELY: '1', OTHER_TOOL_SETTING: 'x' });
    expect(warnings).toEqual(['PREFLIGHT_SOMETHING_ELSE_ENTIRELY is not a setting of this platform; ignored (see docs/configuration.md)']);
    expect(problems({ PREFLIGHT_SOMETHING_ELSE_ENTIRELY: '1', PREFLIGHT_STRICT_ENV: 'true' })).toEqual([
      'PREFLIGHT_SOMETHING_ELSE_ENTIRELY: unknown variable (PREFLIGHT_STRICT_ENV=true); see docs/configuration.md',
    ]);
  });

  it('infers SASL_SSL from a mechanism, and refuses TLS files on a plaintext protocol', () => {
    expect(problems({ KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT' })).toEqual(['KAFKA_SASL_MECHANISM: is required with KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT']);
    expect(problems({ KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT', KAFKA_SSL_VERIFY_HOSTNAME: 'false' })).toEqual([
      'KAFKA_SSL_VERIFY_HOSTNAME: is set but KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not use TLS',
    ]);
    expect(problems({ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CERT_FILE: '/nonexistent/c.pem' })).toContain(
      'KAFKA_SSL_KEY_FILE: mutual TLS needs both KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE',
    );
  });

  it('TLS keeps chain verification and only turns the hostname check off when told', () => {
    const on = loadBusConfig('svc', { KAFKA_SECURITY_PROTOCOL: 'SSL' }).config.kafkaSecurity;
    expect(on?.ssl?.rejectUnauthorized).toBe(true);
    expect(on?.ssl?.checkServerIdentity).toBeUndefined();
    const off = loadBusConfig('svc', { KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_VERIFY_HOSTNAME: 'false' }).config.kafkaSecurity;
    expect(off?.ssl?.rejectUnauthorized).toBe(true);
    expect(off?.ssl?.checkServerIdentity?.('broker', {} as never)).toBeUndefined();
  });

  it('OAUTHBEARER takes exactly one token source', () => {
    expect(problems({ KAFKA_SASL_MECHANISM: 'OAUTHBEARER' })).toEqual([
      'KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: OAUTHBEARER needs exactly one of KAFKA_SASL_OAUTHBEARER_TOKEN_FILE or KAFKA_SASL_OAUTHBEARER_PROVIDER',
    ]);
  });

  it('a registry URL must not carry credentials', () => {
    expect(problems({ SCHEMA_REGISTRY_URL: 'https://key:secret@registry.example:443' })).toEqual(['SCHEMA_REGISTRY_URL: must not carry credentials; use SCHEMA_REGISTRY_BASIC_AUTH_FILE']);
  });
});

describe('registry client arguments', () => {
  it('sends basic auth, or a fresh bearer token per request', () => {
    expect(schemaRegistryClientArgs('https://r', { basicAuth: { username: 'k', password: 's' } })).toMatchObject({ host: 'https://r', auth: { username: 'k', password: 's' } });
    let n = 0;
    const args = schemaRegistryClientArgs('https://r', { bearerToken: () => `t${++n}` });
    const seen: unknown[] = [];
    const request = { enhance: (r: unknown) => (seen.push(r), request) };
    const middleware = args.middlewares![0]!({} as never);
    void middleware.request!(request as never);
    void middleware.request!(request as never);
    expect(seen).toEqual([{ headers: { authorization: 'Bearer t1' } }, { headers: { authorization: 'Bearer t2' } }]);
  });
});

describe('explainKafkaFailure', () => {
  const config = {
    brokers: ['b:9096'],
    kafkaSecurity: { protocol: 'SASL_SSL' as const, origin: { KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD_FILE: '/run/secrets/pw' } },
  };
  it('names the credentials settings on an authentication failure', () => {
    const e = explainKafkaFailure(Object.assign(new Error('SASL SCRAM SHA512 authentication failed: Authentication failed'), { name: 'KafkaJSSASLAuthenticationError' }), config);
    expect(e.message).toBe('Kafka refused the SASL credentials for KAFKA_SASL_USERNAME=svc (KAFKA_SASL_MECHANISM=SCRAM-SHA-512): check the password in KAFKA_SASL_PASSWORD_FILE=/run/secrets/pw');
    expect(e.code).toBe('CONFIG');
  });
  it('names the TLS settings on a certificate failure, and the brokers when unreachable', () => {
    expect(explainKafkaFailure(new Error('self-signed certificate in certificate chain'), config).message).toMatch(/^TLS to b:9096 failed .*KAFKA_SSL_CA_FILE/);
    expect(explainKafkaFailure(Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name: 'KafkaJSConnectionError' }), config).message).toMatch(/^cannot reach Kafka at KAFKA_BROKERS=b:9096/);
  });
});

describe('unknownVariables', () => {
  it('ignores variables that are not ours and the _FILE variants of file-capable settings', () => {
    expect(unknownVariables({ PATH: '/bin', KAFKAJS_NO_PARTITIONER_WARNING: '1', PREFLIGHT_JWT_SECRET_FILE: '/x', KAFKA_BROKERS: 'a:1' })).toEqual([]);
  });
});
