/**
 * Secret hygiene. Secrets are referenced (`secretRef`) everywhere; these helpers are the last line
 * of defence for values that still reach a string (a driver's error message quoting a DSN, say).
 */
const MASK = '[REDACTED]';

/** Keys whose values are never printed, whatever object they sit in. */
export const SECRET_KEYS = [
  'password',
  'passwd',
  'secret',
  'token',
  'accessToken',
  'apiKey',
  'api_key',
  'authorization',
  'privateKey',
  'clientSecret',
] as const;

const SECRET_KEY_SET = new Set(SECRET_KEYS.map((k) => k.toLowerCase()));

export function isSecretKey(key: string): boolean {
  return SECRET_KEY_SET.has(key.toLowerCase());
}

/** Replaces every occurrence of each known secret value inside `text`. */
export function scrubText(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const s of secrets) {
    // Very short values would mask innocent text; secrets that short are rejected upstream anyway.
    if (s.length < 4) continue;
    out = out.split(s).join(MASK);
  }
  return out.replace(/(postgres(?:ql)?|mysql|mariadb|https?):\/\/([^:@/\s]+):([^@/\s]+)@/gi, `$1://$2:${MASK}@`);
}

/** Deep copy with secret-named keys masked and known secret values scrubbed from strings. */
export function redactDeep<T>(value: T, secrets: Iterable<string> = []): T {
  const list = [...secrets];
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return scrubText(v, list);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object' && !(v instanceof Date) && !Buffer.isBuffer(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, inner] of Object.entries(v)) out[k] = isSecretKey(k) && inner != null ? MASK : walk(inner);
      return out;
    }
    return v;
  };
  return walk(value) as T;
}

export const REDACTED = MASK;
