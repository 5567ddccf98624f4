import { isSecretKey, validationError, type FieldIssue } from '@preflight/core';

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Collects every problem of a raw config before failing, the way Kafka Connect's validate does,
 * so a person fixes a config in one round trip.
 */
export class ConfigReader {
  readonly issues: FieldIssue[] = [];
  readonly raw: Record<string, unknown>;

  constructor(raw: unknown, readonly type: string) {
    if (!isObj(raw)) {
      this.raw = {};
      this.issues.push({ field: 'config', message: 'must be an object' });
      return;
    }
    this.raw = raw;
    this.rejectPlaintextSecrets(raw, 'config');
  }

  private rejectPlaintextSecrets(o: Record<string, unknown>, at: string): void {
    for (const [k, v] of Object.entries(o)) {
      if (isSecretKey(k) && v !== undefined && v !== null) {
        this.issues.push({ field: `${at}.${k}`, message: 'plaintext secrets are not accepted; reference the secret instead with secretRef (env:NAME or file:path in the tenant\'s secrets namespace)', value: '[REDACTED]' });
      } else if (isObj(v)) this.rejectPlaintextSecrets(v, `${at}.${k}`);
    }
  }

  private get(path: string): unknown {
    return path.split('.').reduce<unknown>((o, k) => (isObj(o) ? o[k] : undefined), this.raw);
  }

  string(path: string, opts: { required?: boolean; oneOf?: string[]; default?: string } = {}): string | undefined {
    const v = this.get(path);
    if (v === undefined || v === null || v === '') {
      if (opts.required) this.issues.push({ field: `config.${path}`, message: 'is required' });
      return opts.default;
    }
    if (typeof v !== 'string') {
      this.issues.push({ field: `config.${path}`, message: 'must be a string', value: v });
      return opts.default;
    }
    if (opts.oneOf && !opts.oneOf.includes(v)) {
      this.issues.push({ field: `config.${path}`, message: `must be one of ${opts.oneOf.join(', ')}`, value: v });
      return opts.default;
    }
    return v;
  }

  port(path: string, opts: { default?: number } = {}): number {
    const v = this.get(path);
    if (v === undefined) {
      if (opts.default === undefined) this.issues.push({ field: `config.${path}`, message: 'is required' });
      return opts.default ?? 0;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
      this.issues.push({ field: `config.${path}`, message: 'must be a port number between 1 and 65535', value: v });
      return 0;
    }
    return v;
  }

  secretRef(path: string, required: boolean): string | undefined {
    const v = this.string(path, { required });
    if (v !== undefined && !/^[a-z][a-z0-9+.-]*:.+/.test(v)) {
      this.issues.push({ field: `config.${path}`, message: 'must be a secret reference like env:NAME or file:path', value: '[REDACTED]' });
      return undefined;
    }
    return v;
  }

  done<T>(value: T): T {
    if (this.issues.length) throw validationError(this.issues, `invalid ${this.type} connector config: ${this.issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
    return value;
  }
}
